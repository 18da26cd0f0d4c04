// rt.kernels: the user kernels of one runtime. A variant of an engine op is forced per compile
// (`variants: { softmax: 'user:mine' }`); a new op's kernel serves every g.custom node of that op
// (the first registered, unless a variant is forced). Registration checks the definition; the WGSL
// itself is compiled, and its bindings matched to the op's operands, at rt.compile.
import { KernelError } from '../errors';
import { customOps } from '../ops/custom';
import { userKernel, type KernelDefinition, type UserKernel } from '../kernels/user';
import { OPS } from '../ops/registry';

const NAME = /^user:[A-Za-z0-9_.-]+$/;
const IDENT = /^[A-Za-z][A-Za-z0-9]*$/;

/** The engine ops a user variant may replace (single-result ops whose operands have binding names). */
export const USER_VARIANT_OPS = Object.entries(OPS).filter(([, d]) => d.operands).map(([k]) => k).sort();

/**
 * The user kernels of one runtime ({@link Runtime.kernels}): WGSL variants of engine ops, forced
 * per compile, and new ops for {@link Graph.custom}. A bad definition is a KernelError at
 * register(); the WGSL is compiled, and its bindings checked, at compile.
 */
export class KernelRegistry {
  private readonly byOp = new Map<string, UserKernel[]>();

  /** Adds a user kernel: a variant of an engine op, or a new op with its operands, shape rule and reference. */
  register(def: KernelDefinition): void {
    const what = `kernels.register(${typeof def?.name === 'string' ? def.name : '?'})`;
    if (def === null || typeof def !== 'object') throw new KernelError('kernels.register: expects a kernel definition object');
    if (typeof def.name !== 'string' || !NAME.test(def.name)) {
      throw new KernelError(`${what}: name must be 'user:' and letters, digits, '_', '.' or '-', got ${JSON.stringify(def.name)}`);
    }
    if (typeof def.op !== 'string' || !def.op) throw new KernelError(`${what}: op must be an op name, got ${JSON.stringify(def.op)}`);
    if (typeof def.wgsl !== 'string') throw new KernelError(`${what}: wgsl must be the shader source, got ${typeof def.wgsl}`);
    if (typeof def.plan !== 'function') throw new KernelError(`${what}: plan must be a function (args) => { grid, uniforms }`);
    if (def.entry !== undefined && typeof def.entry !== 'string') throw new KernelError(`${what}: entry must be a string`);
    if (def.constants !== undefined && (def.constants === null || typeof def.constants !== 'object')) throw new KernelError(`${what}: constants must be an object`);
    for (const k of this.byOp.values()) {
      if (k.some((u) => u.def.name === def.name)) throw new KernelError(`${what}: a kernel named '${def.name}' is already registered on this runtime`);
    }
    if (def.op in OPS) this.checkVariant_(def, what);
    else this.defineOp_(def, what);
    const list = this.byOp.get(def.op) ?? [];
    list.push(userKernel({ ...def }));
    this.byOp.set(def.op, list);
  }

  /** Removes the kernel named `name`; false if there is none. */
  unregister(name: string): boolean {
    for (const [op, list] of this.byOp) {
      const i = list.findIndex((k) => k.def.name === name);
      if (i >= 0) {
        list.splice(i, 1);
        if (!list.length) this.byOp.delete(op);
        return true;
      }
    }
    return false;
  }

  /** The registered kernels' names, of one op or of all. */
  names(op?: string): string[] {
    return [...this.byOp.entries()].filter(([o]) => op === undefined || o === op).flatMap(([, l]) => l.map((k) => k.def.name));
  }

  /** @internal The kernels of `op`, in registration order. */
  of(op: string): readonly UserKernel[] {
    return this.byOp.get(op) ?? [];
  }

  private checkVariant_(def: KernelDefinition, what: string): void {
    if (!OPS[def.op as keyof typeof OPS].operands) {
      throw new KernelError(`${what}: ${def.op} takes no user variants; the ops that do are ${USER_VARIANT_OPS.join(', ')}, and new ops`);
    }
    if (def.shape || def.reference || def.operands) {
      throw new KernelError(`${what}: ${def.op} is an engine op: its operands, shape rule and reference are its own (operands, shape and reference are for new ops)`);
    }
  }

  private defineOp_(def: KernelDefinition, what: string): void {
    if (!IDENT.test(def.op)) throw new KernelError(`${what}: a new op's name must be letters and digits, got '${def.op}'`);
    const ops = def.operands;
    if (!Array.isArray(ops) || ops.some((o) => typeof o !== 'string' || !IDENT.test(o) || o === 'out') || new Set(ops).size !== ops.length) {
      throw new KernelError(`${what}: new op '${def.op}' needs operands: distinct binding names (not 'out'), got ${JSON.stringify(ops)}`);
    }
    if (typeof def.shape !== 'function' || typeof def.reference !== 'function') {
      throw new KernelError(`${what}: new op '${def.op}' needs a shape rule shape(inputs, attrs) and a CPU reference reference(inputs, attrs)`);
    }
    const known = customOps().get(def.op);
    const same = known && String(known.shape) === String(def.shape) && String(known.reference) === String(def.reference) && known.operands.join() === ops.join();
    if (known && !same) {
      throw new KernelError(`${what}: op '${def.op}' is already defined with other operands, shape rule or reference; give this one another name`);
    }
    if (!known) customOps().set(def.op, { op: def.op, operands: ops.slice(), shape: def.shape, reference: def.reference });
  }
}
