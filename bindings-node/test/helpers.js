const path = require('node:path')
const fs = require('node:fs')

const repo = path.resolve(__dirname, '..', '..')
const shared = process.env.FACEPRINT_SHARED || path.join(repo, '..', 'shared')
const lfwDir = path.join(shared, 'data', 'lfw', 'images')
const devDir = path.join(shared, 'data', 'dev')
if (!fs.existsSync(lfwDir)) throw new Error(`test photos not found at ${lfwDir} (set FACEPRINT_SHARED)`)

// The package under test: FACEPRINT_NODE_PACKAGE names an installed copy (the packed tarball),
// else the build in this folder.
const faceprint = require(process.env.FACEPRINT_NODE_PACKAGE || path.join(__dirname, '..'))

const lfw = (person, n) => path.join(lfwDir, person, `${person}_${String(n).padStart(4, '0')}.jpg`)

module.exports = { faceprint, lfw, devDir }
