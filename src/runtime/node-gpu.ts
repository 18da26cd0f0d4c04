// Dawn's WebGPU for Node (the 'webgpu' package). Dawn needs a Vulkan driver: the system's if one is
// installed, else the SwiftShader ICD that Debian's chromium package ships.
import { existsSync, readdirSync } from 'node:fs';
import { GpuError } from '../errors';

const ICD_DIRS = ['/usr/share/vulkan/icd.d', '/etc/vulkan/icd.d', '/usr/local/share/vulkan/icd.d'];
const SWIFTSHADER_ICDS = ['/usr/lib/chromium/vk_swiftshader_icd.json', '/opt/google/chrome/vk_swiftshader_icd.json'];

export const VULKAN_HELP =
  'Install a Vulkan driver: Mesa lavapipe (Debian bookworm: add bookworm-backports, then ' +
  "'apt-get install -t bookworm-backports mesa-vulkan-drivers'), or 'apt-get install chromium' for its " +
  'SwiftShader ICD, or point VK_ICD_FILENAMES at an ICD json.';

/** Sets VK_ICD_FILENAMES to Chromium's SwiftShader when no system driver is found; returns what it chose. */
export function findVulkanDriver(): string {
  if (process.env.VK_ICD_FILENAMES) return process.env.VK_ICD_FILENAMES;
  for (const dir of ICD_DIRS) {
    if (existsSync(dir) && readdirSync(dir).some((f) => f.endsWith('.json'))) return dir;
  }
  const ss = SWIFTSHADER_ICDS.find((f) => existsSync(f));
  if (ss) {
    process.env.VK_ICD_FILENAMES = ss;
    return ss;
  }
  throw new GpuError(`seqgpu/node: no Vulkan driver found (looked in ${[...ICD_DIRS, ...SWIFTSHADER_ICDS].join(', ')}). ${VULKAN_HELP}`);
}

let gpu: GPU | undefined;

export async function nodeGpu(): Promise<GPU> {
  if (gpu) return gpu;
  findVulkanDriver();
  const dawn = await import('webgpu');
  // Dawn's classes (GPUBufferUsage, GPUShaderStage, ...) are globals in a browser; make them so here.
  Object.assign(globalThis, dawn.globals);
  gpu = dawn.create([]) as GPU;
  return gpu;
}
