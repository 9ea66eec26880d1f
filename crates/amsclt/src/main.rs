//! `amsclt`: parses, runs, prints the outcome and exits with its documented status
//! (`agent::exit`), on mimalloc (`agent::main!`).

agent::main!(amsclt::Ams);
