export { PatternNotFoundError, StoreClosedError, StoreCorruptionError, StoreFormatError } from './errors.js'
export { DEFAULT_LIST_LIMIT, LevelPatternStore, type ListOptions, type MetaEntry, type OpenReport, type StoreOptions } from './level-store.js'
export { type ChangeEvent, type ChangeListener, type ChangeOrigin, type MergeResult, Replica, type ReplicaOptions } from './replica.js'
