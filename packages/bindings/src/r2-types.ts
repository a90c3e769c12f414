/** Cloudflare's R2 http metadata fields. */
export interface R2HttpMetadata {
  contentType?: string;
  contentLanguage?: string;
  contentDisposition?: string;
  contentEncoding?: string;
  cacheControl?: string;
  cacheExpiry?: Date;
}

/** An R2 object as `head()`/`put()`/`list()` give it (plain data). */
export interface R2ObjectData {
  key: string;
  version: string;
  size: number;
  etag: string;
  httpEtag: string;
  uploaded: Date;
  httpMetadata: R2HttpMetadata;
  customMetadata: Record<string, string>;
  checksums: { md5?: string };
  storageClass: string;
  range?: { offset: number; length: number };
}

/** `get()` with a body. */
export interface R2ObjectBodyData extends R2ObjectData {
  body: Uint8Array;
}

/** What `list()` returns. */
export interface R2ListResult {
  objects: R2ObjectData[];
  truncated: boolean;
  cursor?: string;
  delimitedPrefixes: string[];
}

/** R2's limits. */
export const R2_LIMITS = {
  maxKeyBytes: 1024,
  maxMetadataBytes: 2048,
  maxListLimit: 1000,
  maxDeleteKeys: 1000,
  minPartBytes: 5 * 1024 * 1024,
  maxPartNumber: 10_000,
} as const;
