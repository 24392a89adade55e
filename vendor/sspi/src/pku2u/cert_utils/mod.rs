pub(super) mod validation;
#[cfg(target_os = "windows")]
pub(super) mod win_extraction;

#[cfg(target_os = "windows")]
pub(super) use win_extraction as extraction;
