// Content keys for the shader-module, reflection and pipeline caches: a kernel edited under the same
// file name (or a user's variant) gets its own entries, never another's compiled code.

const keys = new WeakMap<object, string>();

/** 53-bit FNV-1a-style hash of a string (two 32-bit lanes), as 14 hex digits plus the length. */
export function hashText(text: string): string {
  let h1 = 0x811c9dc5, h2 = 0x01000193 ^ text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193);
    h2 = Math.imul(h2 ^ c, 0x5bd1e995);
    h2 ^= h2 >>> 15;
  }
  const hi = (h2 >>> 0) & 0x1fffff;
  return `${hi.toString(16).padStart(6, '0')}${(h1 >>> 0).toString(16).padStart(8, '0')}:${text.length}`;
}

/** The content key of a shader's code, computed once per shader object. */
export function shaderKey(shader: { code: string }): string {
  let k = keys.get(shader);
  if (k === undefined) {
    k = hashText(shader.code);
    keys.set(shader, k);
  }
  return k;
}
