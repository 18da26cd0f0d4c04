// seqgpu/node: the same API, with Runtime.create() defaulting to Dawn (the 'webgpu' package, an
// optional peer dependency: browser users never install it).
/**
 * seqgpu/node: everything `seqgpu` exports, with a {@link Runtime} whose `create()` runs on Dawn,
 * the `webgpu` package (`npm install webgpu@0.6.2`). On Linux, Dawn needs a Vulkan driver;
 * {@link findVulkanDriver} says which one it uses.
 *
 * @packageDocumentation
 */
import { SeqgpuError } from './errors';
import { Runtime as BaseRuntime, type RuntimeOptions } from './runtime/runtime';
import { nodeGpu } from './runtime/node-gpu';
import { fileTuneStore } from './runtime/tune-file';

export * from './index';
export { findVulkanDriver } from './runtime/node-gpu';
export { fileTuneStore } from './runtime/tune-file';

/** {@link RuntimeOptions} with what only Node has: a tuning table in a file. */
export interface NodeRuntimeOptions extends RuntimeOptions {
  /**
   * A JSON file holding the tuning table (README, Tuning): read at the first compile, written when
   * `tune: true` measures something new. A shorthand for `tuneStore: fileTuneStore(path)`.
   */
  tuneTable?: string;
}
export { loadSafetensorsFile, loadShardedSafetensorsFile, loadGPT2FromFolder } from './nn/load-node';

// The 'webgpu' version this build is tested with: package.json's peerDependencies entry.
const WEBGPU_PACKAGE = 'webgpu@0.6.2';

/** Runtime.create() with Dawn's WebGPU by default; pass `gpu`, `adapter` or `device` to use another. */
export class Runtime extends BaseRuntime {
  /**
   * A runtime on Dawn (the 'webgpu' package), or on the GPU, adapter or device given. Throws a
   * SeqgpuError saying how to install 'webgpu' when it is missing.
   */
  static override async create(options: NodeRuntimeOptions = {}): Promise<BaseRuntime> {
    const { tuneTable, ...rest } = options;
    const opts: RuntimeOptions = tuneTable !== undefined && !rest.tuneStore ? { ...rest, tuneStore: fileTuneStore(tuneTable) } : rest;
    if (opts.device || opts.adapter || opts.gpu) return BaseRuntime.create.call(this, opts);
    await requireWebgpu();
    return BaseRuntime.create.call(this, { ...opts, gpu: await nodeGpu() });
  }
}

/** Node's own error for a missing package is a bare ERR_MODULE_NOT_FOUND; this one says what to do. */
async function requireWebgpu(): Promise<void> {
  try {
    await import('webgpu');
  } catch (e) {
    const err = e as { code?: string; message?: string };
    if (err.code !== 'ERR_MODULE_NOT_FOUND' || !/['"]webgpu['"]/.test(err.message ?? '')) throw e;
    throw new SeqgpuError(
      `seqgpu/node: the 'webgpu' package (Dawn for Node) is not installed. Install it with ` +
        `'npm install ${WEBGPU_PACKAGE}', or pass Runtime.create({ gpu }) a WebGPU implementation of your own.`,
    );
  }
}
