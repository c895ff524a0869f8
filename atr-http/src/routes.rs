//! The route table: every API route is registered from the catalogue of `atr-api` (its method
//! and path come from the operation's endpoint), and the table remembers the operations it
//! serves, so that a test can hold them against the catalogue.

use atr_api::{Endpoint, Operation};
use axum::Router;
use axum::handler::Handler;
use axum::routing::{MethodFilter, MethodRouter, on};

use crate::AppState;

/// Routes being registered, with the operations they serve.
pub(crate) struct Routes {
    router: Router<AppState>,
    served: Vec<Endpoint>,
}

impl Routes {
    pub(crate) fn new() -> Self {
        Self { router: Router::new(), served: Vec::new() }
    }

    /// Serves `operation` with `handler`, at the operation's method and route.
    pub(crate) fn serve<O: Operation, H: Handler<T, AppState>, T: 'static>(self, operation: O, handler: H) -> Self {
        self.serve_with(operation, handler, |route| route)
    }

    /// Serves `operation` with `handler`, after `adapt` (which adds a layer, such as a body limit)
    /// changed its method router.
    pub(crate) fn serve_with<O: Operation, H: Handler<T, AppState>, T: 'static>(
        mut self,
        _: O,
        handler: H,
        adapt: impl FnOnce(MethodRouter<AppState>) -> MethodRouter<AppState>,
    ) -> Self {
        let endpoint = O::ENDPOINT;
        let filter = match endpoint.method {
            atr_api::endpoints::Method::Get => MethodFilter::GET,
            atr_api::endpoints::Method::Post => MethodFilter::POST,
            atr_api::endpoints::Method::Put => MethodFilter::PUT,
            atr_api::endpoints::Method::Delete => MethodFilter::DELETE,
        };
        self.router = self.router.route(&endpoint.route(), adapt(on(filter, handler)));
        self.served.push(endpoint);
        self
    }

    /// Adds the routes of another table.
    pub(crate) fn merge(mut self, other: Routes) -> Self {
        self.router = self.router.merge(other.router);
        self.served.extend(other.served);
        self
    }

    /// The operations served, in the order they were registered.
    pub(crate) fn served(&self) -> &[Endpoint] {
        &self.served
    }

    pub(crate) fn into_router(self) -> Router<AppState> {
        self.router
    }
}
