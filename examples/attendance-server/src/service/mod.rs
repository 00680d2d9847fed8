//! What the server does, below its routes: employees, cameras (sources, pipelines, status)
//! and the attendance records they write.

pub mod attendance;
pub mod cameras;
pub mod employees;
pub mod live;
pub mod pipeline;
pub mod source;
pub mod status;

/// Days and times at the site's UTC offset (shared with the other servers).
pub use faceprint_server::calendar;
