"""nbgrader notebooks: building them (`build`), the kernel side (`kernel`), the grading
service (`service`)."""
