#![doc = include_str!("../README.md")]

mod clock;
mod errors;
mod handle;
mod rules;
mod runtime;

use pyo3::prelude::*;

/// The native module `atr._atr`; the Python package `atr` wraps it.
#[pymodule]
fn _atr(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(rules::role_names, m)?)?;
    m.add_function(wrap_pyfunction!(rules::activity_names, m)?)?;
    m.add_function(wrap_pyfunction!(rules::principal_problem, m)?)?;
    m.add_function(wrap_pyfunction!(rules::can, m)?)?;
    m.add_function(wrap_pyfunction!(rules::authorize, m)?)?;
    m.add_function(wrap_pyfunction!(errors::_error_kinds, m)?)?;
    m.add_function(wrap_pyfunction!(runtime::_live_operations, m)?)?;
    m.add_function(wrap_pyfunction!(runtime::shutdown, m)?)?;
    m.add_function(wrap_pyfunction!(openapi_document, m)?)?;
    m.add_function(wrap_pyfunction!(handle::connect, m)?)?;
    m.add_class::<handle::Handle>()?;
    m.add_class::<runtime::Operation>()?;
    Ok(())
}

/// The JSON API's OpenAPI document, as `atr serve` answers it at `/api/openapi.json`: the shapes
/// that the data classes' `to_dict()` give.
#[pyfunction]
fn openapi_document() -> String {
    atr_api::openapi::document_json()
}
