const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const { faceprint, lfw } = require('./helpers')

const className = (code) => code.split('_').map((w) => w[0].toUpperCase() + w.slice(1)).join('') + 'Error'

test('one error class per code, exported and declared', () => {
  const declared = fs.readFileSync(path.join(__dirname, '..', 'faceprint.d.ts'), 'utf8')
  for (const [code, number] of faceprint.errorCodes()) {
    const cls = faceprint[className(code)]
    assert.equal(typeof cls, 'function', `${className(code)} is exported`)
    assert.ok(cls.prototype instanceof faceprint.FaceprintError)
    assert.ok(cls.prototype instanceof Error)
    assert.equal(cls.name, className(code))
    assert.ok(declared.includes(`export declare class ${className(code)} extends FaceprintError { readonly code: '${code}' }`),
      `${className(code)} is declared in faceprint.d.ts`)
    assert.ok(declared.includes(`  | '${code}'`), `${code} is in ErrorCode`)
    assert.ok(number > 0)
  }
})

test('rejections and throws are instances of their code\'s class', async () => {
  const engine = new faceprint.Engine()
  const noFace = await engine.extractLargest(new Uint8Array(0)).catch((e) => e)
  assert.ok(noFace instanceof faceprint.ImageEmptyError, noFace)
  assert.ok(noFace instanceof faceprint.FaceprintError)
  assert.equal(noFace.code, 'image_empty')
  assert.equal(noFace.number, 10)
  assert.equal(noFace.name, 'ImageEmptyError')
  assert.match(noFace.stack, /^ImageEmptyError: /)
  assert.throws(() => engine.extractLargestSync('/nonexistent.jpg'), faceprint.IoError)
  assert.throws(() => engine.compare(new Float32Array(3), new Float32Array(3)), faceprint.FaceprintError)
  // napi-rs's own argument errors become InvalidArgumentError (number 1).
  const wrongType = await engine.extractLargest(42).catch((e) => e)
  assert.ok(wrongType instanceof faceprint.InvalidArgumentError, wrongType)
  assert.equal(wrongType.number, 1)
  assert.throws(() => new faceprint.Engine({ modelsDir: '/nonexistent' }), faceprint.ModelsNotFoundError)
  const missing = await engine.verify('nowhere', 'nobody', lfw('Tony_Blair', 1)).catch((e) => e)
  assert.ok(missing instanceof faceprint.FaceprintError, missing)
})
