//! Encoder.
use super::KubeError;
use serde_json::Value as J;
pub fn encode_object(_o: &J) -> Result<Vec<u8>, KubeError> {
    Err(KubeError::Unknown)
}
pub fn encode_yaml(_o: &str) -> Result<Vec<u8>, KubeError> {
    Err(KubeError::Unknown)
}
