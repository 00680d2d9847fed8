const test = require('node:test')
const assert = require('node:assert/strict')
const { faceprint, lfw } = require('./helpers')

const engine = new faceprint.Engine()
const invalid = { code: 'invalid_argument', number: 1 }

test('wrong argument types reject with invalid_argument, Promise methods included', async () => {
  await assert.rejects(() => engine.extract(5), invalid)
  await assert.rejects(() => engine.identify(5, lfw('Tony_Blair', 1)), invalid)
  await assert.rejects(() => engine.enroll('c', 's', 'not an array'), invalid)
  assert.throws(() => engine.compare('a', 'b'), invalid)
  assert.throws(() => faceprint.Store.sqlite(5), invalid)
  assert.throws(() => new faceprint.Engine({ modelsDir: 5 }), invalid)
})

test('sizes and counts must be whole numbers in range, never coerced', async () => {
  for (const threads of [-1, 1.5, NaN, 2 ** 32, 0, 257, Infinity]) {
    assert.throws(() => new faceprint.Engine({ threads }), invalid, `threads ${threads}`)
  }
  const data = new Uint8Array(12)
  for (const [width, height, stride] of [[-2, 2], [2.5, 2], [NaN, 2], [2 ** 32, 1], [2, 2, -6], [2, 2, 6.5]]) {
    await assert.rejects(() => engine.extract({ data, width, height, stride }), invalid, `${width}x${height}/${stride}`)
  }
  for (const topK of [-1, 1.5, NaN, 2 ** 32]) {
    await assert.rejects(() => engine.identify('c', lfw('Tony_Blair', 1), { topK }), invalid, `topK ${topK}`)
  }
  for (const nowMs of [-5, 0.5, NaN]) {
    assert.throws(() => new faceprint.LivenessSession(null, nowMs), invalid, `nowMs ${nowMs}`)
  }
  const session = new faceprint.LivenessSession(null, 0)
  await assert.rejects(() => session.feed(engine, session.nonce, -1, lfw('Tony_Blair', 1)), invalid)
})

test('paths that are not regular files are refused without reading them', async () => {
  for (const p of ['/dev/zero', '/tmp']) {
    await assert.rejects(() => engine.extract(p), (e) => e.code === 'invalid_argument' && /not a regular file/.test(e.message))
  }
})
