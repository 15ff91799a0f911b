declare module 'wgsl-preprocessor/wgsl-preprocessor.js' {
  /** Template-literal tag: fills values and resolves #if/#elif/#else/#endif blocks. */
  export function wgsl(strings: TemplateStringsArray, ...values: unknown[]): string;
}
