// Types of the virtual module the Strata service-worker build provides to a custom worker entry:
//   /// <reference types="@strata/sw/virtual" />
//   import manifest from 'virtual:strata/manifest';
declare module 'virtual:strata/manifest' {
  const manifest: import('@strata/policy').Manifest;
  export default manifest;
}
