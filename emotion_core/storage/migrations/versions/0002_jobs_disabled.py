"""durable API jobs; users.disabled; transcript words no longer kept without consent

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('disabled', sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_table('jobs',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('progress', sa.Float(), nullable=False),
    sa.Column('error', sa.JSON(), nullable=True),
    sa.Column('result', sa.JSON(), nullable=True),
    sa.Column('analysis_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['analysis_id'], ['analyses.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_jobs_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_jobs_user_id'), ['user_id'], unique=False)
    _forget_unkept_transcripts()


def _forget_unkept_transcripts() -> None:
    """Multimodal runs used to store each transcript cue's words even when the upload was not kept: drop them."""
    rows = sa.table('timeline_rows', sa.column('id', sa.Integer), sa.column('analysis_id', sa.Integer),
                    sa.column('modality', sa.String), sa.column('detail', sa.JSON))
    analyses = sa.table('analyses', sa.column('id', sa.Integer), sa.column('media_file', sa.String))
    connection = op.get_bind()
    unkept = connection.execute(
        sa.select(rows.c.id, rows.c.detail).join(analyses, analyses.c.id == rows.c.analysis_id)
        .where(rows.c.modality == 'text', analyses.c.media_file.is_(None))).all()
    for row_id, detail in unkept:
        if isinstance(detail, dict) and 'text' in detail:
            connection.execute(sa.update(rows).where(rows.c.id == row_id)
                               .values(detail={k: v for k, v in detail.items() if k != 'text'}))


def downgrade() -> None:
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_jobs_user_id'))
        batch_op.drop_index(batch_op.f('ix_jobs_status'))
    op.drop_table('jobs')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('disabled')
