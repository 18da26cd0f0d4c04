// seqgpu/node: the same API, with Runtime.create() defaulting to Dawn (the 'webgpu' package).
import { Runtime as BaseRuntime, type RuntimeOptions } from './runtime/runtime';
import { nodeGpu } from './runtime/node-gpu';

export * from './index';
export { findVulkanDriver } from './runtime/node-gpu';

export class Runtime extends BaseRuntime {
  static override async create(opts: RuntimeOptions = {}): Promise<BaseRuntime> {
    if (opts.device || opts.adapter || opts.gpu) return BaseRuntime.create.call(this, opts);
    return BaseRuntime.create.call(this, { ...opts, gpu: await nodeGpu() });
  }
}
