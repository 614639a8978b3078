//! One module per page: render only.

mod home;

pub use home::HomePage;
