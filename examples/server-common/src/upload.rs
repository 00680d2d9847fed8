//! Image uploads: multipart form, raw body (`image/*` or `application/octet-stream`), or JSON
//! with base64 / data-URL strings. Every image is checked here, before any model sees it: not
//! empty, within the size limit, and of a whitelisted format by its magic bytes (the declared
//! content type is not trusted).

use crate::error::ApiError;
use crate::state::Common;
use axum::body::Bytes;
use axum::extract::{FromRef, FromRequest, Multipart, Request};
use axum::http::{header, StatusCode};
use base64::Engine as _;
use serde_json::{Map, Value};

/// Image formats the servers can be told to accept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageFormat {
    Jpeg,
    Png,
    Webp,
    Bmp,
    Gif,
    Tiff,
    Pnm,
}

impl ImageFormat {
    pub fn from_name(name: &str) -> Option<ImageFormat> {
        Some(match name.to_ascii_lowercase().as_str() {
            "jpeg" | "jpg" => ImageFormat::Jpeg,
            "png" => ImageFormat::Png,
            "webp" => ImageFormat::Webp,
            "bmp" => ImageFormat::Bmp,
            "gif" => ImageFormat::Gif,
            "tiff" | "tif" => ImageFormat::Tiff,
            "pnm" | "pgm" | "ppm" => ImageFormat::Pnm,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            ImageFormat::Jpeg => "jpeg",
            ImageFormat::Png => "png",
            ImageFormat::Webp => "webp",
            ImageFormat::Bmp => "bmp",
            ImageFormat::Gif => "gif",
            ImageFormat::Tiff => "tiff",
            ImageFormat::Pnm => "pnm",
        }
    }

    /// The media type, for answers that carry an image.
    pub fn mime(self) -> &'static str {
        match self {
            ImageFormat::Jpeg => "image/jpeg",
            ImageFormat::Png => "image/png",
            ImageFormat::Webp => "image/webp",
            ImageFormat::Bmp => "image/bmp",
            ImageFormat::Gif => "image/gif",
            ImageFormat::Tiff => "image/tiff",
            ImageFormat::Pnm => "image/x-portable-anymap",
        }
    }

    /// The format the first bytes say, whatever the name or content type claims.
    pub fn sniff(bytes: &[u8]) -> Option<ImageFormat> {
        let b = bytes;
        if b.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(ImageFormat::Jpeg)
        } else if b.starts_with(b"\x89PNG\r\n\x1a\n") {
            Some(ImageFormat::Png)
        } else if b.len() >= 12 && &b[0..4] == b"RIFF" && &b[8..12] == b"WEBP" {
            Some(ImageFormat::Webp)
        } else if b.starts_with(b"BM") {
            Some(ImageFormat::Bmp)
        } else if b.starts_with(b"GIF87a") || b.starts_with(b"GIF89a") {
            Some(ImageFormat::Gif)
        } else if b.starts_with(b"II*\0") || b.starts_with(b"MM\0*") {
            Some(ImageFormat::Tiff)
        } else if b.len() >= 2 && b[0] == b'P' && (b'1'..=b'6').contains(&b[1]) {
            Some(ImageFormat::Pnm)
        } else {
            None
        }
    }
}

/// The upload rules of one server (from `[limits]`).
#[derive(Debug, Clone)]
pub struct UploadRules {
    pub max_image_bytes: usize,
    pub formats: Vec<ImageFormat>,
}

impl UploadRules {
    pub fn from_config(limits: &crate::config::LimitsConfig) -> UploadRules {
        UploadRules {
            max_image_bytes: limits.max_upload_bytes,
            formats: limits
                .image_formats
                .iter()
                .filter_map(|f| ImageFormat::from_name(f))
                .collect(),
        }
    }

    /// Checks one image's bytes: not empty, not too large, an accepted format.
    pub fn check(&self, field: &str, bytes: &[u8]) -> Result<ImageFormat, ApiError> {
        if bytes.is_empty() {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "image_empty",
                format!("image {field:?} is empty"),
            ));
        }
        if bytes.len() > self.max_image_bytes {
            return Err(too_large(field, bytes.len(), self.max_image_bytes));
        }
        let accepted: Vec<&str> = self.formats.iter().map(|f| f.name()).collect();
        match ImageFormat::sniff(bytes) {
            Some(f) if self.formats.contains(&f) => Ok(f),
            Some(f) => Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "image_unsupported_format",
                format!(
                    "image {field:?} is {}, this server accepts {}",
                    f.name(),
                    accepted.join(", ")
                ),
            )),
            None => Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "image_unsupported_format",
                format!(
                    "image {field:?} is not an image this server accepts ({})",
                    accepted.join(", ")
                ),
            )),
        }
    }
}

fn too_large(field: &str, bytes: usize, limit: usize) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "image_too_large",
        format!("image {field:?} is over the limit of {limit} bytes"),
    )
    .with_details(serde_json::json!({ "bytes": bytes, "limit": limit }))
}

/// One checked image of an upload.
#[derive(Clone)]
pub struct UploadedImage {
    /// The form field or JSON key it came in.
    pub field: String,
    pub bytes: Bytes,
    pub format: ImageFormat,
}

impl std::fmt::Debug for UploadedImage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "UploadedImage({}, {} bytes, {})",
            self.field,
            self.bytes.len(),
            self.format.name()
        )
    }
}

/// A request body with images and other fields, whatever way it was sent.
#[derive(Debug, Default)]
pub struct Upload {
    /// Non-image fields (multipart text fields as strings).
    pub fields: Map<String, Value>,
    pub images: Vec<UploadedImage>,
}

/// Field names that hold an image in JSON bodies (a string that is base64 or a data URL).
pub const IMAGE_FIELDS: &[&str] = &[
    "image",
    "photo",
    "file",
    "selfie",
    "frame",
    "source_image",
    "target_image",
    "document",
    "front",
    "back",
];

impl Upload {
    /// The image of `field`, or the only image when the caller used another name.
    pub fn image(&self, field: &str) -> Option<&UploadedImage> {
        self.images
            .iter()
            .find(|i| i.field == field)
            .or(if self.images.len() == 1 {
                self.images.first()
            } else {
                None
            })
    }

    /// The image of `field`, or 400 saying it is missing.
    pub fn require_image(&self, field: &str) -> Result<&UploadedImage, ApiError> {
        self.image(field).ok_or_else(|| {
            ApiError::bad_request(format!(
                "an image is required in field {field:?} (multipart file, raw image body, or base64 / data URL in JSON)"
            ))
        })
    }

    pub fn text(&self, field: &str) -> Option<&str> {
        self.fields.get(field).and_then(Value::as_str)
    }

    pub fn require_text(&self, field: &str) -> Result<&str, ApiError> {
        self.text(field)
            .filter(|s| !s.trim().is_empty())
            .ok_or_else(|| ApiError::bad_request(format!("field {field:?} is required")))
    }

    /// A frame's optional `timestamp_ms` field (a number, or a string of digits in a form).
    pub fn timestamp_ms(&self) -> Result<Option<u64>, ApiError> {
        match self.fields.get("timestamp_ms") {
            None => Ok(None),
            Some(v) => v
                .as_u64()
                .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
                .map(Some)
                .ok_or_else(|| {
                    ApiError::bad_request("timestamp_ms must be a whole number of milliseconds")
                }),
        }
    }

    /// Parses a body under `rules`.
    pub async fn parse(req: Request, rules: &UploadRules) -> Result<Upload, ApiError> {
        let content_type = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_ascii_lowercase();
        if content_type.starts_with("multipart/form-data") {
            let mut mp = Multipart::from_request(req, &())
                .await
                .map_err(|e| ApiError::bad_request(format!("multipart body: {}", e.body_text())))?;
            return Self::from_multipart(&mut mp, rules).await;
        }
        let bytes = Bytes::from_request(req, &()).await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "payload_too_large",
                    "the request body is over the size limit",
                )
            } else {
                ApiError::bad_request(format!("request body: {}", e.body_text()))
            }
        })?;
        if content_type.starts_with("application/json") {
            return Self::from_json(&bytes, rules);
        }
        if content_type.starts_with("image/")
            || content_type.starts_with("application/octet-stream")
            || content_type.is_empty()
        {
            let format = rules.check("image", &bytes)?;
            return Ok(Upload {
                fields: Map::new(),
                images: vec![UploadedImage {
                    field: "image".into(),
                    bytes,
                    format,
                }],
            });
        }
        Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            format!("content type {content_type:?}: send multipart/form-data, application/json or an image body"),
        ))
    }

    async fn from_multipart(mp: &mut Multipart, rules: &UploadRules) -> Result<Upload, ApiError> {
        let mut up = Upload::default();
        loop {
            let field = match mp.next_field().await {
                Ok(Some(f)) => f,
                Ok(None) => break,
                Err(e) => return Err(multipart_error(e)),
            };
            let name = field.name().unwrap_or("file").to_string();
            let is_file = field.file_name().is_some()
                || field
                    .content_type()
                    .is_some_and(|c| !c.starts_with("text/"));
            let mut field = field;
            let mut buf = Vec::new();
            while let Some(chunk) = field.chunk().await.map_err(multipart_error)? {
                if buf.len() + chunk.len() > rules.max_image_bytes {
                    return Err(too_large(
                        &name,
                        buf.len() + chunk.len(),
                        rules.max_image_bytes,
                    ));
                }
                buf.extend_from_slice(&chunk);
            }
            if is_file {
                let format = rules.check(&name, &buf)?;
                up.images.push(UploadedImage {
                    field: name,
                    bytes: Bytes::from(buf),
                    format,
                });
            } else {
                let text = String::from_utf8(buf).map_err(|_| {
                    ApiError::bad_request(format!("field {name:?} is not UTF-8 text"))
                })?;
                up.fields.insert(name, Value::String(text));
            }
        }
        Ok(up)
    }

    fn from_json(bytes: &[u8], rules: &UploadRules) -> Result<Upload, ApiError> {
        let value: Value = serde_json::from_slice(bytes)
            .map_err(|e| ApiError::bad_request(format!("JSON body: {e}")))?;
        let Value::Object(map) = value else {
            return Err(ApiError::bad_request("JSON body must be an object"));
        };
        let mut up = Upload::default();
        for (k, v) in map {
            let is_image = match &v {
                Value::String(s) => {
                    IMAGE_FIELDS.contains(&k.as_str()) || s.starts_with("data:image/")
                }
                _ => false,
            };
            if is_image {
                let Value::String(s) = v else { unreachable!() };
                let bytes = decode_base64_image(&k, &s, rules.max_image_bytes)?;
                let format = rules.check(&k, &bytes)?;
                up.images.push(UploadedImage {
                    field: k,
                    bytes: Bytes::from(bytes),
                    format,
                });
            } else {
                up.fields.insert(k, v);
            }
        }
        Ok(up)
    }
}

fn multipart_error(e: axum::extract::multipart::MultipartError) -> ApiError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            "the request body is over the size limit",
        )
    } else {
        ApiError::bad_request(format!("multipart body: {}", e.body_text()))
    }
}

/// Base64 (standard or URL-safe, padded or not) or a `data:image/...;base64,` URL.
pub fn decode_base64_image(field: &str, text: &str, limit: usize) -> Result<Vec<u8>, ApiError> {
    let payload = match text.strip_prefix("data:") {
        Some(rest) => match rest.split_once(";base64,") {
            Some((_, data)) => data,
            None => {
                return Err(ApiError::bad_request(format!(
                    "field {field:?}: a data URL must be base64"
                )))
            }
        },
        None => text,
    };
    let payload = payload.trim();
    if payload.len() / 4 * 3 > limit + 3 {
        return Err(too_large(field, payload.len() / 4 * 3, limit));
    }
    let cleaned: String = payload
        .chars()
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
    STANDARD
        .decode(&cleaned)
        .or_else(|_| STANDARD_NO_PAD.decode(&cleaned))
        .or_else(|_| URL_SAFE.decode(&cleaned))
        .or_else(|_| URL_SAFE_NO_PAD.decode(&cleaned))
        .map_err(|_| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "image_corrupt",
                format!("field {field:?} is not valid base64"),
            )
        })
}

impl<S> FromRequest<S> for Upload
where
    Common: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let common = Common::from_ref(state);
        Upload::parse(req, common.upload_rules()).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_formats_by_magic_bytes() {
        assert_eq!(
            ImageFormat::sniff(&[0xFF, 0xD8, 0xFF, 0xE0]),
            Some(ImageFormat::Jpeg)
        );
        assert_eq!(
            ImageFormat::sniff(b"\x89PNG\r\n\x1a\n...."),
            Some(ImageFormat::Png)
        );
        assert_eq!(
            ImageFormat::sniff(b"RIFF\0\0\0\0WEBPVP8 "),
            Some(ImageFormat::Webp)
        );
        assert_eq!(
            ImageFormat::sniff(b"P5\n2 2\n255\n"),
            Some(ImageFormat::Pnm)
        );
        assert_eq!(ImageFormat::sniff(b"<svg xmlns="), None);
        assert_eq!(ImageFormat::sniff(b"%PDF-1.7"), None);
    }

    #[test]
    fn checks_size_format_and_emptiness() {
        let rules = UploadRules {
            max_image_bytes: 10,
            formats: vec![ImageFormat::Jpeg],
        };
        assert_eq!(rules.check("f", &[]).unwrap_err().code, "image_empty");
        assert_eq!(
            rules.check("f", &[0xFF; 11]).unwrap_err().code,
            "image_too_large"
        );
        assert_eq!(
            rules.check("f", b"\x89PNG\r\n\x1a\n").unwrap_err().status,
            StatusCode::UNSUPPORTED_MEDIA_TYPE
        );
        assert_eq!(
            rules.check("f", &[0xFF, 0xD8, 0xFF, 0]).unwrap(),
            ImageFormat::Jpeg
        );
    }

    #[test]
    fn decodes_base64_and_data_urls() {
        let b = decode_base64_image("f", "data:image/jpeg;base64,/9j/4A==", 100).unwrap();
        assert_eq!(b, [0xFF, 0xD8, 0xFF, 0xE0]);
        assert_eq!(
            decode_base64_image("f", "_9j_4A", 100).unwrap(),
            [0xFF, 0xD8, 0xFF, 0xE0]
        );
        assert_eq!(
            decode_base64_image("f", "@@@", 100).unwrap_err().code,
            "image_corrupt"
        );
        assert_eq!(
            decode_base64_image("f", &"A".repeat(400), 100)
                .unwrap_err()
                .code,
            "image_too_large"
        );
    }
}
