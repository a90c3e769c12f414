/** The newest container format version, written when a page is stored as a XOR (2 is read too). */
export const FORMAT_VERSION = 3;

/** Page size of the page table: zero and reference-equal runs are counted in these pages. */
export const PAGE_SIZE = 4096;

/** The largest heap a container holds: wasm32's 4 GiB address space. */
export const MAX_HEAP_BYTES = 4 * 1024 ** 3;
