"""The local runtime: Switchyard on one machine, with moto as the embedded AWS."""
