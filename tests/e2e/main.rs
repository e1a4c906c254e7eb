//! End-to-end tests: the real `metallab` binary, a real Docker engine, real FRR, BIRD and
//! GoBGP daemons. One test binary so nextest schedules the labs in parallel.

mod bad_input;
mod boot;
mod capture;
mod check_sampling;
mod clusters;
mod converge;
mod faults;
mod harness;
mod in_place;
mod interop;
mod interop_faults;
mod interrupt;
mod next_hop;
mod openbgpd;
mod quagga_image;
mod snapshot;
mod spy;
mod tutorials;
