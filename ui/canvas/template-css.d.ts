// template.css is bundled as text (esbuild's text loader) for the host script.
declare module "*template.css" {
  const text: string;
  export default text;
}
