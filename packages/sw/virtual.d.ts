// Types of the virtual modules the Strata service-worker build provides to a custom worker entry:
//   /// <reference types="@strata/sw/virtual" />
//   import manifest from 'virtual:strata/manifest';
declare module 'virtual:strata/manifest' {
  const manifest: import('@strata/policy').Manifest;
  export default manifest;
}

// The files the Vite plugin precaches (`{ id: '', entries: [] }` when it precaches none):
//   import precache from 'virtual:strata/precache';
//   installPrecache(precache);
declare module 'virtual:strata/precache' {
  const precache: import('@strata/policy/protocol').Precache;
  export default precache;
}
