import { compress, init } from '@bokuweb/zstd-wasm';

let ready: Promise<void> | null = null;

/** Node 20 has no zstd in zlib; the WebAssembly build is small enough for a Lambda bundle. */
export async function zstdCompressor(level = 3): Promise<(input: Uint8Array) => Uint8Array> {
  ready ??= init();
  await ready;
  return (input) => compress(input, level);
}
