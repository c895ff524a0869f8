//! Integration tests of the HTTP service.
