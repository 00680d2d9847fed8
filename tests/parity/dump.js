// The Node side of the language parity check. Usage: node dump.js LFW_DIR DEV_DIR TMP_DIR
// (FACEPRINT_NODE_PACKAGE names the installed package to use.)
const fs = require('node:fs')
const path = require('node:path')
const faceprint = require(process.env.FACEPRINT_NODE_PACKAGE || path.join(__dirname, '..', '..', 'bindings-node'))

const [lfw, dev, tmp] = process.argv.slice(2)
const photo = (person, n) => path.join(lfw, person, `${person}_${String(n).padStart(4, '0')}.jpg`)

async function code(call) {
  try {
    await call()
    return 'ok'
  } catch (err) {
    return err.code
  }
}

async function main() {
  const engine = new faceprint.Engine(null, faceprint.Store.memory())
  const faces = { a: ['Tony_Blair', 1], b: ['Tony_Blair', 2], c: ['George_W_Bush', 2] }
  const emb = {}
  for (const [name, [person, n]] of Object.entries(faces)) emb[name] = await engine.extractLargest(photo(person, n))
  const scores = {}
  const same = {}
  for (const [pair, x, y] of [['a_b', 'a', 'b'], ['a_c', 'a', 'c']]) {
    const c = engine.compare(emb[x].embedding, emb[y].embedding)
    scores[pair] = c.score
    same[pair] = c.same
  }
  await engine.enroll('parity', 'tony', [photo('Tony_Blair', 1), photo('Tony_Blair', 2)])
  await engine.enroll('parity', 'george', [photo('George_W_Bush', 1)])
  const v = await engine.verify('parity', 'tony', photo('Tony_Blair', 10))
  const [best] = await engine.identify('parity', photo('George_W_Bush', 5), { topK: 1 })

  const truncated = path.join(tmp, 'truncated.jpg')
  fs.writeFileSync(truncated, fs.readFileSync(photo('Tony_Blair', 3)).subarray(0, 5000))
  const nan = Float32Array.from(emb.a.embedding)
  nan[2] = NaN
  const errors = {
    empty: await code(() => engine.extractLargest(Buffer.alloc(0))),
    garbage: await code(() => engine.extractLargest(Buffer.from('not an image'))),
    truncated: await code(() => engine.extractLargest(truncated)),
    missing: await code(() => engine.extractLargest('/nonexistent/photo.jpg')),
    no_face: await code(() => engine.extractLargest(path.join(dev, 'hard/non_face/skimage_coffee.png'))),
    nan_vector: await code(() => engine.embeddingFromVector(nan)),
    wrong_dim: await code(() => engine.embeddingFromVector(new Float32Array(7).fill(1))),
    unknown_subject: await code(() => engine.verify('parity', 'nobody', photo('Tony_Blair', 1))),
  }
  // Batch extraction, subject management and collections: the same sequence everywhere.
  const progressSeen = []
  const batch = await engine.extractBatch(
    [photo('Tony_Blair', 1), truncated, photo('George_W_Bush', 2), '/nonexistent/photo.jpg'],
    { threads: 2 }, (done) => progressSeen.push(done))
  // Progress calls are queued to this thread: let the last ones run.
  await new Promise((resolve) => setImmediate(resolve))
  emb.batch_a = batch[0].faces[0]
  const subjects = async () => (await engine.listSubjects('parity', { offset: 0, limit: 100 }))
    .map((s) => [s.externalId, s.templates, s.disabled])
  const george5 = photo('George_W_Bush', 5)
  await engine.disableSubject('parity', 'george')
  const listedDisabled = await subjects()
  const verifyDisabled = await code(() => engine.verify('parity', 'george', george5))
  const identifyDisabled = (await engine.identify('parity', george5, { topK: 1 })).filter((c) => c.matched).map((c) => c.subject)
  await engine.enableSubject('parity', 'george')
  const verifyEnabled = (await engine.verify('parity', 'george', george5)).matched
  const exported = await engine.exportSubject('parity', 'tony')
  const deletedFrom = await engine.deleteTemplate('parity', exported.templates[0].id)
  await engine.deleteSubject('parity', 'george')
  const manage = {
    batch: batch.map((item) => (item.error ? item.error.code : `faces:${item.faces.length}`)),
    batch_progress: Math.max(...progressSeen),
    listed_disabled: listedDisabled,
    verify_disabled: verifyDisabled,
    identify_disabled: identifyDisabled,
    verify_enabled: verifyEnabled,
    export: [exported.subject.externalId, exported.templates.length, exported.templates[0].embedding.model],
    deleted_template_of: deletedFrom,
    listed_after: await subjects(),
    collections: (await engine.listCollections()).map((c) => [c.name, c.modelId, c.dim]),
  }
  // face_recognition's faces: dlib boxes and points, and the first one's embedding.
  const group = path.join(dev, 'faces', 'test', 'obama_and_biden.jpg')
  const found = await engine.dlibFaces(group)
  const dlib = { boxes: found.map((f) => f.box), points: found.map((f) => f.points) }
  emb.dlib_first = (await engine.embed(group, [found[0].face]))[0]
  const embeddings = {}
  for (const [k, e] of Object.entries(emb)) embeddings[k] = Array.from(e.embedding)
  // Identity documents: the page as the library reads it (in this package's camelCase shape;
  // check.py turns it back), a selfie matched with its portrait, the first document errors.
  const docs = path.join(dev, 'documents')
  const document = await engine.readDocument(path.join(docs, 'passport-td3.jpg'), { visualZone: true })
  const dm = await engine.matchDocument(path.join(docs, 'passport-td3.jpg'), path.join(docs, '25_pass-uto.jpg'))
  const documentMatch = { score: dm.score, matched: dm.matched, orientation_degrees: dm.portrait.orientationDegrees }
  const documentErrors = {
    no_document: await code(() => engine.readDocument(path.join(dev, 'hard/non_face/skimage_coffee.png'))),
    no_portrait: await code(() => engine.matchDocument(path.join(docs, '27_pass-gbr.jpg'), path.join(docs, '25_pass-uto.jpg'))),
  }
  console.log(JSON.stringify({
    manage, dlib, embeddings, scores, same, verify: { score: v.score, matched: v.matched }, identify: [best.subject, best.score], errors,
    node_document: document, document_match: documentMatch, document_errors: documentErrors,
  }))
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
