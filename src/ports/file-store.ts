export interface FileSnapshot {
  readonly content: Buffer;
  readonly sha256: string;
  readonly mode: number;
}

/** Files on one target host. */
export interface FileStore {
  /** null when the file does not exist. */
  read(path: string, signal?: AbortSignal): Promise<FileSnapshot | null>;
  /** Atomic (temporary file + rename in the same directory), keeping `mode` (default: the old file's, or 0644). */
  write(path: string, content: Buffer, options?: { mode?: number; signal?: AbortSignal }): Promise<void>;
  /** Removing a missing file is not an error. */
  remove(path: string, signal?: AbortSignal): Promise<void>;
}
