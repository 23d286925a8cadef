"""Where a run's translation work executes: one class per file, registered by name.

`in-process` (the default) translates in this Python process, as evalkit always
has; `ray` sends the work to a Ray cluster. A third-party executor registers the
same way: `EXECUTORS.register("name", "pkg.module:Class")`. Listing names never
imports Ray.
"""

from evalkit.registry import Registry

EXECUTORS: Registry = Registry("executor")
EXECUTORS.register("in-process", "evalkit.executors.in_process:InProcessExecutor")
EXECUTORS.register("ray", "evalkit.executors.ray_executor:RayExecutor")
