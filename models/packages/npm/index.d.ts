/** The directory of the pack (holding manifest.toml). */
export declare const modelsDir: string
/** The pack's manifest: every model's file, sha256, size, licence and input spec. */
export declare const manifestPath: string
