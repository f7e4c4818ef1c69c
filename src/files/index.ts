export { DirectoryWatches, directoriesOf, watchWithFs, type DirectoryWatch, type WatchDirectory } from './watch.js';
