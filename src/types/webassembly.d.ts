// The part of the WebAssembly API the schema engine loader uses (Node has it; @types/node does not declare it).
declare namespace WebAssembly {
  type Exports = Record<string, unknown>;
  interface Instance {
    readonly exports: Exports;
  }
  function instantiate(bytes: Uint8Array, imports: Record<string, unknown>): Promise<{ instance: Instance }>;
}
