//! Inputs of a task: bytes the governor sent in the call, or a read-only file or directory in
//! its storage.

use std::fs;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use crate::error::TaskResult;
use crate::spec::{DataType, ObjectInfo, ObjectSpec};
use crate::UserValue;

/// Where the data of an input is (from the call).
pub(crate) enum InputSource {
    /// A part of the call frame (shared by the inputs of the call).
    Memory(Arc<Vec<u8>>, Range<usize>),
    /// A file or directory in the governor's storage: never modify it.
    Path(PathBuf),
    /// Sent as `cached` (this library never asks to keep inputs, so a governor should not).
    Cached,
}

/// One instance of an input data object.
pub struct DataInstance {
    pub spec: ObjectSpec,
    /// Run-time info set by the object's producer (`user`, `content_type`, …).
    pub info: ObjectInfo,
    size: u64,
    data: InputSource,
    order: usize,
    work_dir: PathBuf,
    /// The bytes of a file input, read on first use.
    file_bytes: OnceLock<Vec<u8>>,
    /// The file a memory input was written to by `get_path`.
    written_path: OnceLock<PathBuf>,
}

impl DataInstance {
    pub(crate) fn new(
        spec: ObjectSpec,
        info: Option<ObjectInfo>,
        size: u64,
        order: usize,
        work_dir: &Path,
        source: InputSource,
    ) -> Self {
        DataInstance {
            spec,
            info: info.unwrap_or_default(),
            size,
            data: source,
            order,
            work_dir: work_dir.to_path_buf(),
            file_bytes: OnceLock::new(),
            written_path: OnceLock::new(),
        }
    }

    /// "input 0 ('label')", for messages.
    pub(crate) fn describe(&self) -> String {
        if self.spec.label.is_empty() {
            format!("input {}", self.order)
        } else {
            format!("input {} ('{}')", self.order, self.spec.label)
        }
    }

    /// The position of this input in the task's inputs.
    pub fn order(&self) -> usize {
        self.order
    }

    /// Size in bytes (approximate for a directory).
    pub fn get_size(&self) -> u64 {
        self.size
    }

    pub fn data_type(&self) -> DataType {
        self.spec.data_type
    }

    pub fn is_blob(&self) -> bool {
        self.spec.data_type == DataType::Blob
    }

    pub fn is_directory(&self) -> bool {
        self.spec.data_type == DataType::Directory
    }

    /// An error unless the input is a blob.
    pub fn check_blob(&self) -> TaskResult<()> {
        if self.is_blob() {
            Ok(())
        } else {
            Err(format!("{} is a directory, a blob was expected", self.describe()).into())
        }
    }

    /// An error unless the input is a directory.
    pub fn check_directory(&self) -> TaskResult<()> {
        if self.is_directory() {
            Ok(())
        } else {
            Err(format!("{} is a blob, a directory was expected", self.describe()).into())
        }
    }

    /// The content type its producer set, else the declared one ("" if none).
    pub fn get_content_type(&self) -> &str {
        if self.info.content_type.is_empty() {
            &self.spec.content_type
        } else {
            &self.info.content_type
        }
    }

    /// A user attribute its producer set (`info.user`); the client's are in `spec.user`.
    pub fn get_user_info(&self, key: &str) -> Option<&UserValue> {
        self.info.user.get(key)
    }

    /// All the input bytes (a file input is read the first time). An error for a directory
    /// or an unreadable file.
    pub fn get_bytes(&self) -> TaskResult<&[u8]> {
        self.check_blob()?;
        match &self.data {
            InputSource::Memory(frame, range) => Ok(&frame[range.clone()]),
            InputSource::Path(path) => {
                if let Some(bytes) = self.file_bytes.get() {
                    return Ok(bytes);
                }
                let bytes = fs::read(path).map_err(|e| {
                    format!("cannot read {} ({}): {}", self.describe(), path.display(), e)
                })?;
                Ok(self.file_bytes.get_or_init(|| bytes))
            }
            InputSource::Cached => Err(self.cached_error()),
        }
    }

    /// The input as UTF-8 text. An error for a directory, a binary or non-UTF-8 content type
    /// (`pickle`, `cbor`, `text-latin2`, …: decode `get_bytes()` yourself) or invalid UTF-8.
    pub fn get_str(&self) -> TaskResult<&str> {
        let content_type = self.get_content_type();
        if !is_utf8_compatible(content_type) {
            return Err(format!(
                "{} has content type '{}', which is not UTF-8 text (use get_bytes())",
                self.describe(),
                content_type
            )
            .into());
        }
        std::str::from_utf8(self.get_bytes()?)
            .map_err(|e| format!("{} is not valid UTF-8: {}", self.describe(), e).into())
    }

    /// The path of the input's file or directory; read it, never modify it. An input the
    /// governor sent as bytes is written to a file in the task's working directory the
    /// first time (the bytes stay available to `get_bytes`). Panics on I/O errors.
    pub fn get_path(&self) -> PathBuf {
        match &self.data {
            InputSource::Path(path) => path.clone(),
            InputSource::Memory(frame, range) => self
                .written_path
                .get_or_init(|| {
                    let path = self.work_dir.join(format!("rain-input-{}", self.order));
                    if let Err(e) = fs::write(&path, &frame[range.clone()]) {
                        panic!("cannot write {} to {}: {}", self.describe(), path.display(), e);
                    }
                    path
                })
                .clone(),
            InputSource::Cached => panic!("{}", self.cached_error()),
        }
    }

    fn cached_error(&self) -> crate::TaskError {
        format!("{} was sent as cached, but this executor keeps no inputs", self.describe()).into()
    }
}

impl std::fmt::Debug for DataInstance {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DataInstance")
            .field("order", &self.order)
            .field("spec", &self.spec)
            .field("info", &self.info)
            .field("size", &self.size)
            .finish()
    }
}

/// False for the content types that are binary or text in another encoding than UTF-8.
fn is_utf8_compatible(content_type: &str) -> bool {
    let family = content_type.split('/').next().unwrap_or("");
    if let Some(encoding) = content_type.strip_prefix("text-") {
        return matches!(encoding.to_ascii_lowercase().as_str(), "utf8" | "utf-8");
    }
    !matches!(family, "pickle" | "cloudpickle" | "cbor" | "arrow" | "protobuf")
}

#[cfg(test)]
pub(crate) fn content_type_is_text(content_type: &str) -> bool {
    is_utf8_compatible(content_type)
}
