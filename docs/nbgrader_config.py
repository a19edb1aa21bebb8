# nbgrader_config.py for a course that uses the mempools C exercises: copy it to the course
# directory (the folder that holds source/, release/, submitted/, autograded/, feedback/) and
# copy notebooks/exercises/*.ipynb into source/<assignment>/. Then, from the course directory:
#   nbgrader generate_assignment <assignment>      # student version: solutions out, stubs in
#   nbgrader autograde <assignment> --create      # runs every submitted notebook
#   nbgrader generate_feedback <assignment>       # HTML per student, with each exercise's report
#   nbgrader export --to grades.csv
# The student's C is compiled and checked by the %%exercise magic in a child process (in the
# bubblewrap sandbox where the machine allows it), exactly as under `python -m mempools grade`.
c = get_config()  # noqa: F821 - traitlets defines get_config() when it loads this file

c.CourseDirectory.course_id = "memory-101"

# The exercise cells are C, but nbgrader picks the stub by the kernel's language (Python):
# the %%exercise magic turns each line of this stub back into the C stub that
# `python -m mempools release` writes (`/* YOUR CODE HERE */` and a call that makes every check
# say "not implemented yet"). Any Python stub works; the magic reads it from this file, so keep
# it here (or in a Jupyter config directory the students' kernels see too).
c.ClearSolutions.code_stub = {
    "python": "# YOUR CODE HERE\nraise NotImplementedError()",
}

# Each graded cell returns points x (checks passed / checks), and nbgrader scores a grade cell
# by the number it outputs. Every check runs in a child process with a 5 s CPU limit and a 30 s
# wall clock, so one exercise cell can take longer than nbgrader's default of 30 s per cell (a
# student loop that sleeps instead of spinning uses the whole wall clock): leave room, or
# nbgrader interrupts the cell and the exercise scores 0 without a report.
c.Execute.timeout = 300
