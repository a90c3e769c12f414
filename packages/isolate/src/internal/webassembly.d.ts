// The slice of the WebAssembly JS API this package uses. The repo compiles against lib ES2023
// without DOM, which leaves the `WebAssembly` global untyped.
declare namespace WebAssembly {
  interface Module {
    readonly __wasmModule?: never;
  }
  interface Memory {
    readonly buffer: ArrayBuffer;
    grow(pages: number): number;
  }
  interface Global {
    value: unknown;
  }
  interface Instance {
    readonly exports: Record<string, unknown>;
  }
  var Module: { prototype: Module; new (bytes: Uint8Array): Module };
  var Memory: { prototype: Memory; new (d: { initial: number; maximum?: number }): Memory };
  function compile(bytes: Uint8Array): Promise<Module>;
  function instantiate(module: Module, imports?: object): Promise<Instance>;
}
