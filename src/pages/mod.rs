//! One module per page: render only.

mod create;
mod detail;
mod edit;
mod gateways;
mod home;
mod login;
mod map;
mod namespace;
mod restrict;
mod rollout;
mod route;
mod services;
mod traffic;

pub use create::CreatePage;
pub use detail::ServiceEntryPage;
pub use edit::EditPage;
pub use gateways::GatewaysPage;
pub use home::HomePage;
pub use login::LoginPage;
pub use map::MapPage;
pub use namespace::NamespacePage;
pub use rollout::RolloutPage;
pub use services::ServicesPage;
pub use traffic::TrafficPage;
