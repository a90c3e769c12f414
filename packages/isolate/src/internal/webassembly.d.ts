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
    readonly exports: Exports;
  }
  type Exports = Record<string, unknown>;
  interface ModuleImportDescriptor {
    module: string;
    name: string;
    kind: string;
  }
  var Module: {
    prototype: Module;
    new (bytes: Uint8Array): Module;
    imports(module: Module): ModuleImportDescriptor[];
  };
  var Global: {
    prototype: Global;
    new (d: { value: string; mutable?: boolean }, v?: unknown): Global;
  };
  var Memory: { prototype: Memory; new (d: { initial: number; maximum?: number }): Memory };
  function compile(bytes: Uint8Array): Promise<Module>;
  function instantiate(module: Module, imports?: object): Promise<Instance>;
}
