package workload

// Config is the workload's configuration with its defaults filled in.
func (w *Workload) Config() Config { return w.cfg }
