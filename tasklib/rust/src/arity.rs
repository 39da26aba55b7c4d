//! The parameter kinds of `register_task!` and the input and output counts they call for.

/// The parameter kinds of `register_task!`: one input, all the remaining inputs, one output,
/// all the remaining outputs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArgKind {
    I,
    Is,
    O,
    Os,
}

/// How many inputs and outputs a task takes (exactly, or at least when `more`).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Arity {
    inputs: usize,
    more_inputs: bool,
    outputs: usize,
    more_outputs: bool,
}

impl Arity {
    pub(crate) fn of(kinds: &[ArgKind]) -> Result<Arity, String> {
        let mut arity = Arity { inputs: 0, more_inputs: false, outputs: 0, more_outputs: false };
        for kind in kinds {
            let (count, more, what) = match kind {
                ArgKind::I | ArgKind::Is => (&mut arity.inputs, &mut arity.more_inputs, "Is"),
                ArgKind::O | ArgKind::Os => (&mut arity.outputs, &mut arity.more_outputs, "Os"),
            };
            if *more {
                return Err(format!(
                    "{} takes all the remaining ones: nothing of its kind may follow it",
                    what
                ));
            }
            match kind {
                ArgKind::I | ArgKind::O => *count += 1,
                ArgKind::Is | ArgKind::Os => *more = true,
            }
        }
        Ok(arity)
    }

    pub(crate) fn check(
        &self,
        task_type: &str,
        inputs: usize,
        outputs: usize,
    ) -> Result<(), String> {
        let counts = [
            ("input", self.inputs, self.more_inputs, inputs),
            ("output", self.outputs, self.more_outputs, outputs),
        ];
        for (what, wanted, more, got) in counts {
            if got == wanted || (more && got > wanted) {
                continue;
            }
            return Err(format!(
                "task '{}' takes {}{}, but it was called with {}",
                task_type,
                if more { "at least " } else { "" },
                plural(wanted, what),
                plural(got, what)
            ));
        }
        Ok(())
    }
}

fn plural(n: usize, what: &str) -> String {
    format!("{} {}{}", n, what, if n == 1 { "" } else { "s" })
}
