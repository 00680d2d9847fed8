const test = require('node:test')
const assert = require('node:assert/strict')
const path = require('node:path')
const { pathToFileURL } = require('node:url')
const { faceprint } = require('./helpers')

const pkgDir = process.env.FACEPRINT_NODE_PACKAGE || path.join(__dirname, '..')

test('import { Engine } from "faceprint": the ES module entry has every public name', async () => {
  const esm = await import(pathToFileURL(path.join(pkgDir, 'faceprint.mjs')).href)
  const publicNames = Object.keys(faceprint).filter((n) => !/Task$/.test(n) && !n.startsWith('__'))
  for (const name of publicNames) assert.equal(esm[name], faceprint[name], `${name} is a named export`)
  assert.equal(esm.default, faceprint)
  const engine = new esm.Engine()
  assert.ok(engine instanceof faceprint.Engine)
  const err = await engine.extractLargest(new Uint8Array(0)).catch((e) => e)
  assert.ok(err instanceof esm.ImageEmptyError)
})
