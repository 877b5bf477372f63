//! L2 — restaking (SPEC §5): operator-centric (EigenLayer), vault-centric (Symbiotic, Jito),
//! BTC staking (Babylon), and the services that buy security.

pub mod babylon;
pub mod eigenlayer;
pub mod jito;
pub mod services;
pub mod symbiotic;
