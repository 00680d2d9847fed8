// The package's types: the generated native API (index.d.ts) and the error classes
// faceprint.js adds. test/errors.test.js checks this list against errorCodes().
export * from './index'

/** Every stable error code (the same names and numbers in C, Python and Node). */
export type ErrorCode =
  | 'invalid_argument'
  | 'io'
  | 'image_empty'
  | 'image_too_large'
  | 'image_too_many_pixels'
  | 'image_truncated'
  | 'image_corrupt'
  | 'image_unsupported_format'
  | 'invalid_pixel_buffer'
  | 'no_face'
  | 'multiple_faces'
  | 'models_not_found'
  | 'model_checksum'
  | 'model_manifest'
  | 'runtime_unavailable'
  | 'inference'
  | 'model_mismatch'
  | 'invalid_embedding'
  | 'calibration_range'
  | 'decrypt'
  | 'wrong_key'
  | 'store_corrupt'
  | 'not_found'
  | 'already_exists'
  | 'storage'
  | 'subject_disabled'
  | 'quality_rejected'
  | 'session_finished'
  | 'no_document'
  | 'no_mrz'
  | 'mrz_unreadable'
  | 'mrz_check_failed'
  | 'no_portrait'
  | 'internal'

/** Every error Faceprint throws or rejects with; `code` and `number` never change. */
export declare class FaceprintError extends Error {
  readonly code: ErrorCode
  readonly number: number
}

export declare class InvalidArgumentError extends FaceprintError { readonly code: 'invalid_argument' }
export declare class IoError extends FaceprintError { readonly code: 'io' }
export declare class ImageEmptyError extends FaceprintError { readonly code: 'image_empty' }
export declare class ImageTooLargeError extends FaceprintError { readonly code: 'image_too_large' }
export declare class ImageTooManyPixelsError extends FaceprintError { readonly code: 'image_too_many_pixels' }
export declare class ImageTruncatedError extends FaceprintError { readonly code: 'image_truncated' }
export declare class ImageCorruptError extends FaceprintError { readonly code: 'image_corrupt' }
export declare class ImageUnsupportedFormatError extends FaceprintError { readonly code: 'image_unsupported_format' }
export declare class InvalidPixelBufferError extends FaceprintError { readonly code: 'invalid_pixel_buffer' }
export declare class NoFaceError extends FaceprintError { readonly code: 'no_face' }
export declare class MultipleFacesError extends FaceprintError { readonly code: 'multiple_faces' }
export declare class ModelsNotFoundError extends FaceprintError { readonly code: 'models_not_found' }
export declare class ModelChecksumError extends FaceprintError { readonly code: 'model_checksum' }
export declare class ModelManifestError extends FaceprintError { readonly code: 'model_manifest' }
export declare class RuntimeUnavailableError extends FaceprintError { readonly code: 'runtime_unavailable' }
export declare class InferenceError extends FaceprintError { readonly code: 'inference' }
export declare class ModelMismatchError extends FaceprintError { readonly code: 'model_mismatch' }
export declare class InvalidEmbeddingError extends FaceprintError { readonly code: 'invalid_embedding' }
export declare class CalibrationRangeError extends FaceprintError { readonly code: 'calibration_range' }
export declare class DecryptError extends FaceprintError { readonly code: 'decrypt' }
export declare class WrongKeyError extends FaceprintError { readonly code: 'wrong_key' }
export declare class StoreCorruptError extends FaceprintError { readonly code: 'store_corrupt' }
export declare class NotFoundError extends FaceprintError { readonly code: 'not_found' }
export declare class AlreadyExistsError extends FaceprintError { readonly code: 'already_exists' }
export declare class StorageError extends FaceprintError { readonly code: 'storage' }
export declare class SubjectDisabledError extends FaceprintError { readonly code: 'subject_disabled' }
export declare class QualityRejectedError extends FaceprintError { readonly code: 'quality_rejected' }
export declare class SessionFinishedError extends FaceprintError { readonly code: 'session_finished' }
export declare class NoDocumentError extends FaceprintError { readonly code: 'no_document' }
export declare class NoMrzError extends FaceprintError { readonly code: 'no_mrz' }
export declare class MrzUnreadableError extends FaceprintError { readonly code: 'mrz_unreadable' }
export declare class MrzCheckFailedError extends FaceprintError { readonly code: 'mrz_check_failed' }
export declare class NoPortraitError extends FaceprintError { readonly code: 'no_portrait' }
export declare class InternalError extends FaceprintError { readonly code: 'internal' }

/** A check digit of a machine-readable zone. */
export interface MrzCheck { field: string; found: string; expected: string; valid: boolean }
/** A change made to what OCR read, confirmed by the check digit of `field`. */
export interface MrzRepair { line: number; column: number; from: string; to: string; field: string }
/** A machine-readable zone (ICAO 9303) as read; dates `YYYY-MM-DD`. */
export interface Mrz {
  format: 'td1' | 'td2' | 'td3' | 'mrv_a' | 'mrv_b'
  documentType: string
  issuingState: string
  surname: string
  givenNames: string
  documentNumber: string
  nationality: string
  birthDate: string | null
  sex: string
  expiryDate: string | null
  optionalData: string
  optionalData2: string | null
  checks: MrzCheck[]
  /** Every check digit passes. */
  valid: boolean
  lines: string[]
  rawLines: string[]
  repairs: MrzRepair[]
}
/** The holder's photo on a document page. */
export interface DocumentPortrait {
  /** In the page's pixels as given. */
  face: import('./index').Face
  /** In the upright page's pixels. */
  uprightFace: import('./index').Face
  orientationDegrees: number
  quality: Record<string, unknown>
}
export interface TextLine { text: string; confidence: number; bbox: number[] }
export interface VisualCheck { field: string; mrz: string; found: boolean; text: string | null }
export interface DocumentReading {
  mrz: Mrz | null
  portrait: DocumentPortrait | null
  /** Clockwise degrees that make the page upright. */
  orientationDegrees: number
  visualZone: { lines: TextLine[]; checks: VisualCheck[] } | null
  /** Every check digit of the zone passes. */
  verified: boolean
  /** Why not verified: no_mrz, mrz_unreadable or mrz_check_failed. */
  error?: { code: ErrorCode; number: number; message: string }
}
export interface DocumentMatch {
  score: number
  threshold: number
  matched: boolean
  portrait: DocumentPortrait
  selfieFace: import('./index').Face
}
