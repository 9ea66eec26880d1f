//! AMQP 0-9-1, as the reference amqpclt spoke it through pika and kombu, on lapin:
//! RabbitMQ's own protocol. Destinations as the reference reads them
//! ([`destination`]), messages mapped as the reference maps them ([`mapping`]), and better
//! than the reference where it was unreliable: publisher confirms with `--reliable`,
//! acknowledgements by hand within basic.qos, `multiple` acks with `--batch`.

pub mod connection;
pub mod destination;
pub mod incoming;
pub mod mapping;
pub mod outgoing;

pub use incoming::{Amqp091Incoming, IncomingOptions};
pub use outgoing::{Amqp091Outgoing, OutgoingOptions};
