export { contentVersion, ResourceCache, type CachedResource, type CacheEntry, type ChangeSet, type ChangeListener, type PerspectiveViews, type ResourceView } from './cache.js';
