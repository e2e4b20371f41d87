export {
  createInstanceStore,
  storageKeyForSha256,
  type InstanceStore,
  type InstanceStoreOptions,
  type PendingWrite,
  type StoredObject,
  type StagedObject,
  type StagingRecovery,
} from './instance-store.js';
export { StorageError, InsufficientSpaceError, WriteStateError, InvalidStorageKeyError } from './errors.js';
