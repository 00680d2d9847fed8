const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const { faceprint, lfw, devDir } = require('./helpers')

// Models from FACEPRINT_MODELS (the test runner points it at the checkout's models/).
const engine = new faceprint.Engine()

test('paths, Buffers, Uint8Arrays and raw pixels give the same embedding', async () => {
  const file = lfw('Tony_Blair', 1)
  const bytes = fs.readFileSync(file)
  const fromPath = await engine.extractLargest(file)
  const fromBuffer = await engine.extractLargest(bytes)
  const fromUint8 = await engine.extractLargest(new Uint8Array(bytes))
  const sync = engine.extractLargestSync(file)
  for (const e of [fromBuffer, fromUint8, sync]) assert.deepEqual(e.embedding, fromPath.embedding)
  assert.equal(fromPath.embedding.length, engine.embeddingDim)
  assert.ok(fromPath.embedding instanceof Float32Array)
  assert.equal(fromPath.model, engine.embedder)
  const [x1, y1, x2, y2] = fromPath.face.bbox
  assert.ok(x1 >= 0 && x1 < x2 && y2 > y1 && y2 <= 250)
  assert.equal(fromPath.face.landmarks.length, 5)
})

test('raw pixel buffers with stride and BGR order', async () => {
  // A 2x1 image is not a face, but it exercises the layout checks.
  const tiny = { data: new Uint8Array([1, 2, 3, 0, 4, 5, 6, 0]), width: 2, height: 1, format: 'rgba' }
  assert.deepEqual(await engine.detect(tiny), [])
  await assert.rejects(engine.detect({ data: new Uint8Array(5), width: 2, height: 1 }), { code: 'invalid_pixel_buffer' })
  await assert.rejects(engine.detect({ data: new Uint8Array(6), width: 2, height: 1, format: 'yuv' }), { code: 'invalid_argument' })
})

test('bad input rejects with a code', async () => {
  const truncated = fs.readFileSync(lfw('Tony_Blair', 3)).subarray(0, 5000)
  const cases = [
    [Buffer.alloc(0), 'image_empty'],
    [Buffer.from('not an image'), 'image_unsupported_format'],
    [truncated, 'image_truncated'],
    ['/nonexistent/photo.jpg', 'io'],
    [path.join(devDir, 'hard', 'non_face', 'skimage_coffee.png'), 'no_face'],
  ]
  for (const [input, code] of cases) {
    await assert.rejects(engine.extractLargest(input), (err) => {
      assert.ok(err instanceof Error)
      assert.equal(err.code, code)
      assert.equal(typeof err.number, 'number')
      assert.ok(err.message.length > 0)
      return true
    })
  }
  assert.throws(() => engine.extractLargestSync(Buffer.from('x')), { code: 'image_unsupported_format' })
})

test('compare, thresholds and stored vectors', async () => {
  const a = await engine.extractLargest(lfw('Tony_Blair', 1))
  const b = await engine.extractLargest(lfw('Tony_Blair', 2))
  const c = await engine.extractLargest(lfw('George_W_Bush', 2))
  assert.equal(engine.compare(a.embedding, b.embedding).same, true)
  const other = engine.compare(a.embedding, c.embedding)
  assert.equal(other.same, false)
  assert.equal(other.fmr, 1e-4)
  // A raw threshold just under the impostor score accepts it (thresholds are the model's own).
  assert.equal(engine.compare(a.embedding, c.embedding, { threshold: other.score - 0.01 }).same, true)
  assert.throws(() => engine.compare(a.embedding, b.embedding, { threshold: 0.5, fmr: 1e-3 }), { code: 'invalid_argument' })
  const nan = Float32Array.from(a.embedding)
  nan[2] = NaN
  assert.throws(() => engine.embeddingFromVector(nan), { code: 'invalid_embedding' })
  assert.throws(() => engine.compare(a.embedding, new Float32Array(3)), { code: 'invalid_embedding' })
  assert.deepEqual(engine.embeddingFromVector(a.embedding).embedding, a.embedding)
})

test('enroll, verify, identify and delete over an encrypted store', async (t) => {
  const dir = fs.mkdtempSync(path.join(require('node:os').tmpdir(), 'faceprint-node-'))
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }))
  const key = Buffer.alloc(32, 7).toString('base64')
  const store = faceprint.Store.sqlite(path.join(dir, 'gallery.db'), key)
  const gallery = new faceprint.Engine(null, store)
  const report = await gallery.enroll('staff', 'tony', [lfw('Tony_Blair', 1), fs.readFileSync(lfw('Tony_Blair', 2))], { displayName: 'Tony', metadata: { team: 'uk' } })
  assert.equal(report.subject.externalId, 'tony')
  assert.equal(report.templateIds.length, 2)
  await gallery.enroll('staff', 'george', [lfw('George_W_Bush', 1)])
  const v = await gallery.verify('staff', 'tony', lfw('Tony_Blair', 10))
  assert.equal(v.matched, true)
  assert.equal((await gallery.verify('staff', 'george', lfw('Tony_Blair', 10))).matched, false)
  const found = await gallery.identify('staff', lfw('George_W_Bush', 5), { topK: 2 })
  assert.equal(found[0].subject, 'george')
  assert.equal(found[0].matched, true)
  await assert.rejects(gallery.enroll('staff', 'pair', [path.join(devDir, 'hard', 'multi_face', 'fr_two_people.jpg')]), { code: 'multiple_faces' })
  await gallery.deleteSubject('staff', 'george')
  await assert.rejects(gallery.deleteSubject('staff', 'george'), { code: 'not_found' })
  assert.throws(() => faceprint.Store.sqlite(path.join(dir, 'gallery.db'), Buffer.alloc(32, 8).toString('base64')), { code: 'wrong_key' })
  await assert.rejects(engine.identify('staff', lfw('Tony_Blair', 1)), { code: 'invalid_argument' })
})

test('quality, liveness and sessions', async () => {
  const q = await engine.quality(lfw('Colin_Powell', 1))
  assert.equal(q.passed, true)
  const strict = await engine.quality(lfw('Colin_Powell', 1), { profile: 'enrollment', overrides: { min_inter_eye_distance: 500 } })
  assert.ok(strict.reasons.includes('too_small'))
  await assert.rejects(async () => engine.quality(lfw('Colin_Powell', 1), { profile: 'nope' }), { code: 'invalid_argument' })
  const live = await engine.liveness(path.join(devDir, 'spoof', 'live', fs.readdirSync(path.join(devDir, 'spoof', 'live'))[0]))
  assert.equal(live.live, live.score >= live.threshold)

  const session = new faceprint.LivenessSession({ count: 2, passive: false }, 1000)
  assert.equal(session.nonce.length, 32)
  assert.equal(session.challenges.length, 2)
  const first = await session.feed(engine, session.nonce, 1100, lfw('Colin_Powell', 1))
  assert.equal(first.status, 'in_progress')
  const wrong = await session.feed(engine, '0'.repeat(32), 1200, lfw('Colin_Powell', 1))
  assert.equal(wrong.failure, 'nonce_mismatch')
  await assert.rejects(session.feed(engine, session.nonce, 1300, lfw('Colin_Powell', 1)), { code: 'session_finished' })

  const gallery = new faceprint.Engine(null, faceprint.Store.memory())
  const enroll = new faceprint.EnrollmentSession({ collection: 'staff', subject: 'tony', target_samples: 2, require_liveness: false, min_pose_difference: 0 })
  const steps = []
  for (const n of [1, 2, 3]) steps.push(await enroll.feed(gallery, 100 * n, lfw('Tony_Blair', n)))
  assert.deepEqual(steps.map((s) => s.accepted), [false, true, true])
  assert.equal(steps[2].status, 'completed')
  const auth = new faceprint.AuthenticationSession({ collection: 'staff', require_liveness: false })
  const answer = await auth.feed(gallery, 50, lfw('Tony_Blair', 10))
  assert.equal(answer.status, 'authenticated')
  assert.equal(answer.subject, 'tony')
  assert.throws(() => new faceprint.EnrollmentSession({ collection: 'staff' }), { code: 'invalid_argument' })

  // Reports are typed objects with camelCase fields all the way down (index.d.ts).
  assert.equal(q.faceCount, 1)
  assert.ok(q.interEyeDistance > 20 && q.factors.size > 0 && q.metrics.sharpness > 0)
  assert.ok(['mesh', 'five_point'].includes(q.pose.source))
  assert.equal(first.events[0].event, 'instruction')
  assert.ok(session.challenges.includes(first.events[0].challenge))
  assert.equal(steps[2].completedSamples, 2)
  assert.equal(steps[2].enrollment.templateIds.length, 2)
  assert.equal(steps[2].enrollment.subject.externalId, 'tony')
  assert.equal(answer.framesUsed, 1)
  const snake = (value, at) => {
    if (Array.isArray(value)) return value.forEach((v, i) => snake(v, `${at}[${i}]`))
    if (value === null || typeof value !== 'object' || value instanceof Float32Array) return
    for (const [k, v] of Object.entries(value)) {
      assert.ok(!k.includes('_'), `${at}.${k} is not camelCase`)
      if (k !== 'metadata') snake(v, `${at}.${k}`)
    }
  }
  for (const [name, report] of Object.entries({ q, strict, first, wrong, steps, answer })) snake(report, name)
})

test('concurrent calls on one engine match sequential ones', async () => {
  const photos = []
  for (const p of ['Tony_Blair', 'George_W_Bush', 'Colin_Powell']) for (const n of [1, 2, 3]) photos.push(lfw(p, n))
  const sequential = []
  for (const p of photos) sequential.push((await engine.extractLargest(p)).embedding)
  // All at once: libuv's worker pool runs them in parallel.
  const parallel = await Promise.all([...photos, ...photos].map((p) => engine.extractLargest(p)))
  parallel.forEach((e, i) => assert.deepEqual(e.embedding, sequential[i % photos.length]))
})

test('error codes are the shared table', () => {
  const codes = faceprint.errorCodes()
  assert.ok(codes.some(([name, n]) => name === 'no_face' && n === 20))
  assert.equal(new Set(codes.map(([n]) => n)).size, codes.length)
})

test('every face, face crops and stored embeddings over a store', async () => {
  const gallery = new faceprint.Engine(null, faceprint.Store.memory())
  await gallery.enroll('c', 'obama', [path.join(devDir, 'faces', 'named', 'obama_obama.jpg')])
  await gallery.enroll('c', 'biden', [path.join(devDir, 'faces', 'named', 'biden_biden.jpg')])
  const group = path.join(devDir, 'hard', 'multi_face', 'fr_obama_and_biden.jpg')
  const all = await gallery.identifyAll('c', group, { topK: 1 })
  assert.equal(all.length, 3)
  const named = all.filter((r) => r.candidates[0].matched).map((r) => r.candidates[0].subject).sort()
  assert.deepEqual(named, ['biden', 'obama'])
  for (const r of all) assert.equal(r.face.bbox.length, 4)
  const verified = await gallery.verifyAll('c', 'obama', group)
  assert.equal(verified.filter((v) => v.matched).length, 1)

  // A stored vector identifies, verifies and enrolls like a photo; a face crop embeds whole.
  const probe = await gallery.extractLargest(path.join(devDir, 'faces', 'test', 'obama1.jpg'))
  const id = await gallery.identifyEmbedding('c', probe.embedding, { topK: 2 })
  assert.equal(id.candidates[0].subject, 'obama')
  assert.equal(id.face, undefined)
  assert.equal((await gallery.verifyEmbedding('c', 'obama', probe.embedding)).matched, true)
  const report = await gallery.enrollEmbeddings('c', 'obama-copy', [probe.embedding])
  assert.equal(report.templateIds.length, 1)
  await assert.rejects(gallery.identifyEmbedding('c', new Float32Array(3)), { code: 'invalid_embedding' })
  await assert.rejects(gallery.enrollEmbeddings('c', 'x', [new Float32Array(engine.embeddingDim)]), { code: 'invalid_embedding' })
  const crop = await gallery.embedFaceCrop(lfw('Tony_Blair', 1))
  assert.equal(crop.embedding.length, engine.embeddingDim)
  assert.deepEqual(crop.face.bbox, [0, 0, 250, 250])
})

test('face_recognition alignment: dlibFaces, embed, facesAt, landmarks68', async () => {
  const group = path.join(devDir, 'faces', 'test', 'obama_and_biden.jpg')
  const found = await engine.dlibFaces(group)
  assert.equal(found.length, 3)
  const widths = found.map((f) => f.box[2] - f.box[0])
  assert.deepEqual(widths, [...widths].sort((a, b) => b - a), 'largest face first')
  assert.equal(found[0].points.length, 5)
  // Stored locations give the same faces back.
  const again = await engine.dlibFaces(group, found.map((f) => f.box))
  assert.deepEqual(again.map((f) => f.points), found.map((f) => f.points))
  const [e] = await engine.embed(group, [found[0].face])
  assert.equal(e.embedding.length, engine.embeddingDim)
  const [at] = await engine.facesAt(group, [found[0].box])
  assert.ok(at.score > 0.5)
  assert.equal((await engine.landmarks68(group, at)).length, 68)
  const broken = { ...found[0].face, landmarks: [[NaN, 0], [1, 1], [2, 2], [3, 3], [4, 4]] }
  await assert.rejects(engine.embed(group, [broken]), { code: 'invalid_argument' })
  await assert.rejects(engine.facesAt(group, [[1, 2, 3]]), { code: 'invalid_argument' })
  await assert.rejects(engine.facesAt(group, [[0, 0, 1e6, 1e6]]), { code: 'invalid_argument' })
})

test('identity documents: read, verified, matched with a selfie', async () => {
  const docs = path.join(devDir, 'documents')
  const page = await engine.readDocument(path.join(docs, 'passport-td3.jpg'), { visualZone: true })
  assert.equal(page.verified, true)
  assert.equal(page.error, undefined)
  assert.equal(page.mrz.format, 'td3')
  assert.equal(page.mrz.documentNumber, 'L898902C3')
  assert.deepEqual(page.mrz.checks.map((c) => c.valid), [true, true, true, true, true])
  assert.equal(page.portrait.orientationDegrees, 0)
  assert.equal(page.portrait.face.bbox.length, 4)
  assert.ok(page.visualZone.checks.every((c) => c.found), JSON.stringify(page.visualZone.checks))
  assert.equal((await engine.readDocument(path.join(docs, 'passport-td3.jpg'))).visualZone, null)
  const card = await engine.readDocument(path.join(docs, '33_id-usa.jpg'))
  assert.equal(card.verified, false)
  assert.equal(card.error.code, 'mrz_check_failed')
  assert.equal(card.mrz.checks[0].valid, false)
  await assert.rejects(engine.readDocument(path.join(devDir, 'hard', 'non_face', 'skimage_coffee.png')), { code: 'no_document' })
  const same = await engine.matchDocument(path.join(docs, 'passport-td3.jpg'), path.join(docs, '25_pass-uto.jpg'))
  assert.equal(same.matched, true)
  assert.ok(same.score >= same.threshold)
  const other = await engine.matchDocument(path.join(docs, 'passport-td3.jpg'), lfw('Colin_Powell', 1))
  assert.equal(other.matched, false)
  await assert.rejects(engine.matchDocument(path.join(docs, '27_pass-gbr.jpg'), lfw('Colin_Powell', 1)),
    (e) => e instanceof faceprint.NoPortraitError && e.code === 'no_portrait')
})
