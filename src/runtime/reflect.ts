// What a shader entry point binds and where each uniform member sits, read from the WGSL itself
// with wgsl_reflect, so no alignment table is kept by hand.
import { WgslReflect, ResourceType, type FunctionInfo, type VariableInfo } from 'wgsl_reflect';
import { GpuError } from '../errors';
import { shaderKey } from './hash';
import { sourceLine, type Shader, type Uniforms } from '../kernels/kernel';

export interface EntryLayout {
  /** Bindings of group 0 that the entry point uses, in binding order. */
  bindings: { binding: number; name: string; type: GPUBufferBindingType }[];
  /** The uniform struct, when the entry uses one. */
  uniform?: { binding: number; size: number; members: Map<string, { offset: number; kind: 'u32' | 'i32' | 'f32'; count: number }> };
}

const reflections = new Map<string, WgslReflect>();
const layouts = new Map<string, EntryLayout>();

export function entryLayout(shader: Shader, entry: string): EntryLayout {
  const key = `${shaderKey(shader)}|${entry}`;
  let layout = layouts.get(key);
  if (layout) return layout;
  let refl = reflections.get(shaderKey(shader));
  if (!refl) {
    try {
      refl = new WgslReflect(shader.code);
    } catch (e) {
      const msg = atSource(shader, e instanceof Error ? e.message : String(e));
      throw new GpuError(`${shader.file}: the shader cannot be reflected (bindings, uniforms): ${msg}`);
    }
    reflections.set(shaderKey(shader), refl);
  }
  const fn: FunctionInfo | undefined = refl.entry.compute.find((f) => f.name === entry);
  if (!fn) throw new GpuError(`${shader.file}: no compute entry point '${entry}'`);
  layout = { bindings: [] };
  for (const r of [...fn.resources].sort((x, y) => x.binding - y.binding)) {
    if (r.resourceType === ResourceType.Uniform) {
      layout.bindings.push({ binding: r.binding, name: r.name, type: 'uniform' });
      layout.uniform = { binding: r.binding, size: r.size, members: uniformMembers(r) };
    } else if (r.resourceType === ResourceType.Storage) {
      const type = r.access === 'read' ? 'read-only-storage' : 'storage';
      layout.bindings.push({ binding: r.binding, name: r.name, type });
    }
  }
  layouts.set(key, layout);
  return layout;
}

/** wgsl_reflect's "Line: N" counts lines of the joined code (prelude first); say which file's line it is. */
function atSource(shader: Shader, msg: string): string {
  return msg.replace(/Line: (\d+)/, (_, n: string) => {
    const at = sourceLine(shader, Number(n));
    return `at ${at.file}:${at.line}`;
  });
}

function uniformMembers(v: VariableInfo) {
  const out = new Map<string, { offset: number; kind: 'u32' | 'i32' | 'f32'; count: number }>();
  for (const m of v.members ?? []) {
    const name = m.type.getTypeName();
    const kind = name.includes('f32') ? 'f32' : name.includes('i32') ? 'i32' : 'u32';
    out.set(m.name, { offset: m.offset, kind, count: m.size / 4 });
  }
  return out;
}

/** Packs `values` into the uniform buffer bytes the layout describes; unknown or missing names throw. */
export function packUniforms(shader: Shader, entry: string, values: Uniforms): ArrayBuffer {
  const u = entryLayout(shader, entry).uniform;
  if (!u) throw new GpuError(`${shader.file}:${entry} has no uniform block`);
  const buf = new ArrayBuffer(Math.ceil(u.size / 16) * 16);
  const view = new DataView(buf);
  for (const [name, value] of Object.entries(values)) {
    const m = u.members.get(name);
    if (!m) throw new GpuError(`${shader.file}: uniform has no member '${name}'`);
    const arr = typeof value === 'number' ? [value] : value;
    if (arr.length > m.count) throw new GpuError(`${shader.file}: uniform '${name}' holds ${m.count} values, got ${arr.length}`);
    arr.forEach((x, i) => {
      const at = m.offset + 4 * i;
      if (m.kind === 'f32') view.setFloat32(at, x, true);
      else if (m.kind === 'i32') view.setInt32(at, x, true);
      else view.setUint32(at, x, true);
    });
  }
  return buf;
}

/**
 * Bind-group entries for `entry` from buffers named as the shader's variables, for code that drives
 * a shader directly (the roofline, tests); every binding the entry uses must be given.
 */
export function namedEntries(shader: Shader, entry: string, buffers: Record<string, GPUBuffer>): GPUBindGroupEntry[] {
  return entryLayout(shader, entry).bindings.map((b) => {
    const buffer = buffers[b.name];
    if (!buffer) throw new GpuError(`${shader.file}:${entry}: no buffer given for '${b.name}'`);
    return { binding: b.binding, resource: { buffer } };
  });
}
