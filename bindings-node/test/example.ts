// Type-checked by `npm run typecheck` against the generated index.d.ts (not run).
import { Engine, Store, FaceEmbedding, Comparison, Candidate, BatchItem, Subject, Collection, SubjectExport, FaceprintError, NoFaceError, ErrorCode } from '..'

async function main(): Promise<void> {
  const engine = new Engine({ modelsDir: process.env.FACEPRINT_MODELS }, Store.memory())
  const a: FaceEmbedding = await engine.extractLargest('alice_1.jpg')
  const b: FaceEmbedding = engine.extractLargestSync(new Uint8Array([0xff, 0xd8]))
  const c: Comparison = engine.compare(a.embedding, b.embedding, { fmr: 1e-4 })
  await engine.enroll('staff', 'alice', ['alice_1.jpg'], { displayName: 'Alice' })
  const found: Candidate[] = await engine.identify('staff', { data: new Uint8Array(12), width: 2, height: 2, format: 'rgb' }, { topK: 3 })
  console.log(c.same, found.map((f) => f.subject))
  const batch: BatchItem[] = await engine.extractBatch(['a.jpg', new Uint8Array(4)], { threads: 2 }, (done: number, total: number) => console.log(done, total))
  const firstFaces: FaceEmbedding[] = batch[0].faces ?? []
  const subjects: Subject[] = await engine.listSubjects('staff', { offset: 0, limit: 10 })
  const collections: Collection[] = await engine.listCollections()
  const exported: SubjectExport = await engine.exportSubject('staff', subjects[0].externalId)
  await engine.disableSubject('staff', 'alice')
  await engine.enableSubject('staff', 'alice')
  const owner: string = await engine.deleteTemplate('staff', exported.templates[0].id)
  console.log(firstFaces.length, collections[0].modelId, owner, engine.modelsDir)
}

main().catch((err: unknown) => {
  if (err instanceof NoFaceError) {
    const code: 'no_face' = err.code
    console.error(code)
  } else if (err instanceof FaceprintError) {
    const code: ErrorCode = err.code
    console.error(code, err.number, err.message)
  }
})
