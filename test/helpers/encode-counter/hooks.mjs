// Module hooks for the encode-counting test: every import of src/core/encoding.ts, except the
// wrapper's own, resolves to the counting wrapper, so production code is measured unchanged.
const WRAPPER = new URL('./counting-encoding.ts', import.meta.url).href

export async function resolve (specifier, context, next) {
  const resolved = await next(specifier, context)
  if (resolved.url.endsWith('/src/core/encoding.ts') && context.parentURL !== WRAPPER) return { ...resolved, url: WRAPPER }
  return resolved
}
