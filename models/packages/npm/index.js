'use strict'
// The Faceprint model pack; the faceprint package finds it when both are installed.
const path = require('node:path')

/** The directory of the pack (holding manifest.toml). */
exports.modelsDir = path.join(__dirname, 'pack')
/** The pack's manifest: every model's file, sha256, size, licence and input spec. */
exports.manifestPath = path.join(__dirname, 'pack', 'manifest.toml')
