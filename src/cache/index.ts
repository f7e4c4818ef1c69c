export {
  ResourceCache,
  type CachedResource,
  type CacheEntry,
  type ChangeSet,
  type ChangeListener,
  type ResourceView,
} from './cache.js';
export { DrainTracker, type DrainNotice, type DrainResult, type PendingDrain, type DrainTrackerOptions } from './drains.js';
