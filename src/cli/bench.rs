pub fn run(_args: super::args::BenchArgs) -> anyhow::Result<()> { anyhow::bail!("todo") }
