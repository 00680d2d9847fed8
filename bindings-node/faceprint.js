'use strict'
// The package's entry: the generated native binding (index.js) with two changes.
// 1. Every error is an instance of its code's class (NoFaceError, ImageCorruptError, ...: the
//    names Python uses), all subclasses of FaceprintError, with `code` and `number`.
// 2. napi-rs converts arguments before our code runs and throws errors of its own for wrong
//    types (code "StringExpected", "InvalidArg", ... and no number). Those become the documented
//    `invalid_argument` (number 1), and a Promise-returning method rejects with it instead of
//    throwing — as it does for every other bad input.
const fs = require('node:fs')
const path = require('node:path')
const native = require('./index.js')

const NAPI_STATUS = new Set([
  'InvalidArg', 'ObjectExpected', 'StringExpected', 'NameExpected', 'FunctionExpected',
  'NumberExpected', 'BooleanExpected', 'ArrayExpected', 'BigintExpected', 'DateExpected',
  'ArrayBufferExpected', 'DetachableArraybufferExpected',
])

class FaceprintError extends Error {
  constructor(message, code, number) {
    super(message)
    this.code = code
    this.number = number
  }
}
Object.defineProperty(FaceprintError.prototype, 'name', { value: 'FaceprintError' })

// One class per code, named as in Python: no_face -> NoFaceError.
const errorClasses = new Map()
for (const [code, number] of native.errorCodes()) {
  const name = code.split('_').map((w) => w[0].toUpperCase() + w.slice(1)).join('') + 'Error'
  const cls = { [name]: class extends FaceprintError {} }[name]
  Object.defineProperty(cls.prototype, 'name', { value: name })
  errorClasses.set(code, { cls, number })
}

function documented(err) {
  if (!(err instanceof Error) || err instanceof FaceprintError) return err
  let code = err.code
  if (NAPI_STATUS.has(code) && err.number === undefined) code = 'invalid_argument'
  const known = errorClasses.get(code)
  if (!known) return err
  const typed = new known.cls(err.message, code, known.number)
  // Keep where it happened: the original stack under the new name.
  if (typeof err.stack === 'string') typed.stack = err.stack.replace(/^Error/, typed.name)
  return typed
}

// Which methods return Promises, from the generated declarations: "class X {" blocks with
// "name(...): Promise<...>" lines.
function promiseMethods() {
  const found = new Map()
  let current = null
  for (const line of fs.readFileSync(path.join(__dirname, 'index.d.ts'), 'utf8').split('\n')) {
    const cls = /^export declare class (\w+)/.exec(line)
    if (cls) current = cls[1]
    else if (/^}/.test(line)) current = null
    const m = current && /^\s+(\w+)\(.*\): Promise</.exec(line)
    if (m) {
      if (!found.has(current)) found.set(current, new Set())
      found.get(current).add(m[1])
    }
  }
  return found
}

function wrap(fn, returnsPromise) {
  return function (...args) {
    try {
      const out = fn.apply(this, args)
      return returnsPromise ? Promise.resolve(out).catch((e) => { throw documented(e) }) : out
    } catch (e) {
      if (returnsPromise) return Promise.reject(documented(e))
      throw documented(e)
    }
  }
}

// The `@faceprint/models` package, when installed beside this one (face_recognition_models'
// convention): the pack search looks there after FACEPRINT_MODELS.
try {
  native.registerModelPackage(require('@faceprint/models').modelsDir)
} catch (e) {
  if (e.code !== 'MODULE_NOT_FOUND') throw e
}

const asyncMethods = promiseMethods()
const exported = {}
for (const [name, value] of Object.entries(native)) {
  if (typeof value !== 'function' || !/^[A-Z]/.test(name)) {
    exported[name] = typeof value === 'function' ? wrap(value, false) : value
    continue
  }
  const promises = asyncMethods.get(name) || new Set()
  for (const key of Object.getOwnPropertyNames(value.prototype)) {
    const d = Object.getOwnPropertyDescriptor(value.prototype, key)
    if (key !== 'constructor' && typeof d.value === 'function') {
      Object.defineProperty(value.prototype, key, { ...d, value: wrap(d.value, promises.has(key)) })
    }
  }
  // A proxy over an empty function (so the native class's read-only statics can be
  // wrapped): `new`, statics and `instanceof` reach the native class.
  const proxy = new Proxy(function () {}, {
    construct(_shell, args, newTarget) {
      try {
        return Reflect.construct(value, args, newTarget === proxy ? value : newTarget)
      } catch (e) {
        throw documented(e)
      }
    },
    get(_shell, key) {
      const v = Reflect.get(value, key)
      return typeof v === 'function' && Object.hasOwn(value, key) ? wrap(v.bind(value), false) : v
    },
  })
  exported[name] = proxy
}
exported.FaceprintError = FaceprintError
for (const { cls } of errorClasses.values()) exported[cls.name] = cls
module.exports = exported
