//! A set of queues browsed as one.

use crate::error::{Error, Result};
use crate::name::Names;
use crate::{AnyQueue, DirQueue};

/// Several queues iterated as one, merged by element name (the time of creation), as Perl's
/// `Directory::Queue::Set` does. A queue appears at most once (same device and inode).
#[derive(Debug, Default)]
pub struct QueueSet {
    queues: Vec<(String, AnyQueue)>,
}

impl QueueSet {
    /// A set holding `queues`; fails on a duplicate.
    pub fn new(queues: impl IntoIterator<Item = AnyQueue>) -> Result<Self> {
        let mut set = QueueSet::default();
        for q in queues {
            set.add(q)?;
        }
        Ok(set)
    }

    /// Adds a queue; fails if the same queue is already there.
    pub fn add(&mut self, q: AnyQueue) -> Result<()> {
        let id = q.id()?;
        if self.queues.iter().any(|(i, _)| *i == id) {
            return Err(Error::DuplicateQueue(q.path().display().to_string()));
        }
        self.queues.push((id, q));
        Ok(())
    }

    /// Removes the queue with the same identity as `q`; returns it if it was there.
    pub fn remove(&mut self, q: &AnyQueue) -> Result<Option<AnyQueue>> {
        let id = q.id()?;
        Ok(self
            .queues
            .iter()
            .position(|(i, _)| *i == id)
            .map(|pos| self.queues.remove(pos).1))
    }

    /// The queues, in the order they were added.
    pub fn queues(&self) -> impl Iterator<Item = &AnyQueue> {
        self.queues.iter().map(|(_, q)| q)
    }

    /// The queue at `index`, as given by [`QueueSet::iter`].
    pub fn get(&self, index: usize) -> Option<&AnyQueue> {
        self.queues.get(index).map(|(_, q)| q)
    }

    /// The total number of elements.
    pub fn count(&self) -> Result<usize> {
        self.queues().map(|q| q.count()).sum()
    }

    /// Iterates `(queue index, element name)` over every queue, smallest element name
    /// (last 14 characters) first.
    pub fn iter(&self) -> SetNames {
        SetNames {
            heads: self
                .queues()
                .map(|q| {
                    let mut n = q.names();
                    let head = n.next();
                    (n, head)
                })
                .collect(),
        }
    }
}

/// Iterator of [`QueueSet::iter`].
#[derive(Debug)]
pub struct SetNames {
    heads: Vec<(Names, Option<Result<String>>)>,
}

fn key(name: &str) -> &str {
    &name[name.len().saturating_sub(14)..]
}

impl Iterator for SetNames {
    type Item = Result<(usize, String)>;

    fn next(&mut self) -> Option<Self::Item> {
        // Errors first, so they are never stuck behind a name.
        let mut best: Option<usize> = None;
        for (i, (_, head)) in self.heads.iter().enumerate() {
            match head {
                None => {}
                Some(Err(_)) => {
                    best = Some(i);
                    break;
                }
                Some(Ok(n)) => {
                    let better = match best.and_then(|b| self.heads[b].1.as_ref()) {
                        Some(Ok(b)) => key(n) < key(b),
                        _ => true,
                    };
                    if better {
                        best = Some(i);
                    }
                }
            }
        }
        let i = best?;
        let (names, head) = &mut self.heads[i];
        let item = std::mem::replace(head, names.next())?;
        Some(item.map(|n| (i, n)))
    }
}
